// BackendClient: the one way the SFTP layer talks to its backend. Every
// call of the contract (proto/sftpgate/v1/backend.proto) is one method
// here; the session's Session message and the call deadline are stamped
// by the implementation, never by callers.
//
// Implementations: GrpcBackendClient (grpc_backend_client.h) over a
// Backend stub; tests may provide an in-process fake.
//
// Thread safety: a BackendClient serves one SFTP session and every method
// (and every method of the streams it returns) is called on that
// session's loop thread. Every callback also runs on the loop thread (an
// implementation hands completions over through its LoopPoster), never
// inside the call that started it, and never after Shutdown().

#ifndef SFTPGATE_SERVER_BACKEND_BACKEND_CLIENT_H_
#define SFTPGATE_SERVER_BACKEND_BACKEND_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "server/backend/data_chunk.h"
#include "server/backend/loop_poster.h"
#include "server/backend/transfer_budget.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::backend {

using Clock = std::chrono::steady_clock;

// Whether a stream that ended with `status` broke on the backend's side
// (its replica died or shut down: UNAVAILABLE, or CANCELLED, which the
// owner never sees for its own Cancel()) rather than answering. A Read
// or ListDir that broke so may be started again: it changes nothing.
inline bool BrokeOnBackendSide(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

// The loop-side end of one server-streaming call (Read, ListDir), with
// flow control: at most one message is requested at a time, and the next
// only when the owner asks, so a slow client never makes the front end
// buffer a whole file or listing. Destroying the stream cancels the call.
template <typename Resp>
class IncomingStream {
 public:
  struct Handler {
    // A message arrived (after RequestNext()).
    absl::AnyInvocable<void(Resp)> on_message;
    // The call ended: OK after the last message, or the error. Not called
    // after Cancel().
    absl::AnyInvocable<void(const grpc::Status&)> on_finish;
  };

  virtual ~IncomingStream() = default;

  // Requests the next message unless one is already requested or the
  // stream has ended.
  virtual void RequestNext() = 0;
  // Cancels the call; no handler runs afterwards. Idempotent.
  virtual void Cancel() = 0;
  // Whether on_finish has run (or would have, had the stream not been
  // cancelled).
  virtual bool finished() const = 0;
};

// The loop-side end of one Write call (client streaming). Messages are
// queued and sent in order; Close() half-closes after the queue drains and
// the backend commits; Cancel() or destroying the stream aborts the
// upload (the backend discards it).
class WriteStream {
 public:
  struct Handler {
    // Queued messages were taken for sending (queued_bytes() shrank).
    // Called only while want_progress is set, and when the stream breaks.
    absl::AnyInvocable<void()> on_progress;
    // The call ended: the backend's commit result after Close(), or the
    // error that broke the stream. Not called after Cancel().
    absl::AnyInvocable<void(const grpc::Status&, uint64_t committed_size)>
        on_finish;
  };

  virtual ~WriteStream() = default;

  // Queues `data` (copied) to be written at `offset`, as one WriteChunk
  // message: at most the backend's largest chunk. Ignored once the stream
  // broke or closed.
  virtual void Write(uint64_t offset, absl::string_view data) = 0;
  // Half-closes once every queued message is sent. Idempotent.
  virtual void Close() = 0;
  // Aborts the call. No handler runs afterwards. Idempotent.
  virtual void Cancel() = 0;
  // Whether on_progress should run as messages are taken (may cost a
  // hand-over to the loop per message).
  virtual void set_want_progress(bool want) = 0;
  // Payload bytes queued and not yet taken (also charged to the
  // session's TransferBudget).
  virtual size_t queued_bytes() const = 0;
  virtual bool finished() const = 0;
};

// What one session's client needs besides the backend itself.
struct BackendClientOptions {
  // The authenticated session, stamped on every request.
  v1::Session session;
  // Brings completions to the session's loop (never null).
  std::shared_ptr<LoopPoster> poster;
  // Deadline of unary calls; also the longest a stream may keep a client
  // request waiting without progress (enforced by the stream's owner).
  std::chrono::milliseconds call_timeout{30000};
  // What the session's transfers may buffer (never null).
  std::shared_ptr<TransferBudget> budget;
};

class BackendClient {
 public:
  // The answer of a unary call: the status and, when OK, the response
  // (the callee may move out of it).
  template <typename Resp>
  using Done = absl::AnyInvocable<void(const grpc::Status&, Resp&)>;

  virtual ~BackendClient() = default;

  // Unary calls. Each sends `request` (its session field is overwritten)
  // with the call deadline and runs `done` exactly once on the loop,
  // unless Shutdown() came first (then never).
  virtual void Describe(v1::DescribeRequest request,
                        Done<v1::DescribeResponse> done) = 0;
  virtual void Stat(v1::StatRequest request, Done<v1::StatResponse> done) = 0;
  virtual void MakeDir(v1::MakeDirRequest request,
                       Done<v1::MakeDirResponse> done) = 0;
  virtual void RemoveDir(v1::RemoveDirRequest request,
                         Done<v1::RemoveDirResponse> done) = 0;
  virtual void Remove(v1::RemoveRequest request,
                      Done<v1::RemoveResponse> done) = 0;
  virtual void Rename(v1::RenameRequest request,
                      Done<v1::RenameResponse> done) = 0;
  virtual void SetStat(v1::SetStatRequest request,
                       Done<v1::SetStatResponse> done) = 0;
  virtual void Symlink(v1::SymlinkRequest request,
                       Done<v1::SymlinkResponse> done) = 0;
  virtual void ReadLink(v1::ReadLinkRequest request,
                        Done<v1::ReadLinkResponse> done) = 0;
  virtual void Link(v1::LinkRequest request, Done<v1::LinkResponse> done) = 0;
  virtual void RealPath(v1::RealPathRequest request,
                        Done<v1::RealPathResponse> done) = 0;
  virtual void StatFs(v1::StatFsRequest request,
                      Done<v1::StatFsResponse> done) = 0;
  virtual void Usage(v1::UsageRequest request,
                     Done<v1::UsageResponse> done) = 0;
  // Optional in the contract (Describe.hash_algorithms): UNIMPLEMENTED
  // when the backend cannot answer this request from what it stores.
  virtual void Hash(v1::HashRequest request, Done<v1::HashResponse> done) = 0;

  // Server-streaming calls. Each starts the call with the session stamped
  // on `request` and requests the first message. Streams have no overall
  // deadline: their owners time out a stream that makes no progress.
  // Read's chunks come as DataChunks: the data in a buffer with room for
  // an SFTP reply's header in front (data_chunk.h).
  virtual std::shared_ptr<IncomingStream<DataChunk>> Read(
      v1::ReadRequest request, IncomingStream<DataChunk>::Handler handler) = 0;
  virtual std::shared_ptr<IncomingStream<v1::ListDirResponse>> ListDir(
      v1::ListDirRequest request,
      IncomingStream<v1::ListDirResponse>::Handler handler) = 0;

  // Starts a Write call whose first message carries the session and
  // `header`. Queued payload is charged to budget().
  virtual std::shared_ptr<WriteStream> Write(v1::WriteHeader header,
                                             WriteStream::Handler handler) = 0;

  // Cancels every unary call in flight; no unary `done` runs afterwards.
  // Streams are cancelled by their owners (dropping them). Idempotent.
  virtual void Shutdown() = 0;

  // The deadline of unary calls (see BackendClientOptions).
  virtual std::chrono::milliseconds call_timeout() const = 0;
  // The session's transfer budget (see BackendClientOptions).
  virtual TransferBudget& budget() const = 0;
};

// Makes one session's client. Called on the session's loop thread.
using BackendClientFactory =
    std::function<std::shared_ptr<BackendClient>(BackendClientOptions)>;

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_BACKEND_CLIENT_H_
