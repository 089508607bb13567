// WriteStream: the loop-side end of one backend Write call (client
// streaming). Messages are queued here and handed to gRPC one at a time;
// Close() half-closes after the queue drains (the backend commits);
// Cancel() or dropping the stream aborts the upload.
//
// The queue is shared with the call's reactor, which starts the next write
// itself as soon as gRPC finishes one (on a gRPC thread): messages flow
// without a trip through the loop per message. The loop hears about
// progress only while it asks for it (set_want_progress), and always about
// a broken stream and the call's end.
//
// Lifetimes follow IncomingStream (incoming_stream.h): a self-deleting
// reactor holds a gRPC hold while the loop side may still start writes;
// completions reach the loop through the poster and a weak_ptr.
//
// Thread safety: every method runs on the loop thread.

#ifndef SFTPGATE_SERVER_BACKEND_WRITE_STREAM_H_
#define SFTPGATE_SERVER_BACKEND_WRITE_STREAM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "grpcpp/client_context.h"
#include "server/backend/backend_context.h"

namespace sftpgate::server::sftp {

class WriteStream : public std::enable_shared_from_this<WriteStream> {
 public:
  struct Handler {
    // gRPC took queued messages (queued_bytes() shrank). Called only while
    // want_progress is set, and when the stream breaks.
    absl::AnyInvocable<void()> on_progress;
    // The call ended: the backend's commit result after Close(), or the
    // error that broke the stream. Not called after Cancel().
    absl::AnyInvocable<void(const grpc::Status&, uint64_t committed_size)>
        on_finish;
  };

  // Starts a Write call whose first message carries the session and
  // `header`.
  static std::shared_ptr<WriteStream> Start(const BackendContext& backend,
                                            v1::WriteHeader header,
                                            Handler handler);
  ~WriteStream();

  // Queues a chunk message. Ignored once the stream broke or closed.
  void Write(v1::WriteRequest message);
  // Half-closes once every queued message is written. Idempotent.
  void Close();
  // Aborts the call (the backend discards the upload). No handler runs
  // afterwards. Idempotent.
  void Cancel();

  // Whether on_progress should run as messages are taken (costs a post to
  // the loop per message).
  void set_want_progress(bool want);

  // Payload bytes queued and not yet taken by gRPC (also charged to the
  // session's TransferBudget).
  size_t queued_bytes() const;
  bool finished() const { return finished_; }

 private:
  struct Pipe;
  class Reactor;

  WriteStream(std::shared_ptr<LoopPoster> poster,
              std::shared_ptr<TransferBudget> budget, Handler handler);
  void OnProgress(bool ok);
  void OnFinished(const grpc::Status& status, uint64_t committed_size);
  void ReleaseReactor();

  std::shared_ptr<LoopPoster> poster_;
  Handler handler_;
  std::shared_ptr<grpc::ClientContext> context_;
  std::shared_ptr<Pipe> pipe_;  // shared with the reactor
  Reactor* reactor_ = nullptr;  // valid while non-null (we hold it)
  bool closing_ = false;
  bool broken_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_BACKEND_WRITE_STREAM_H_
