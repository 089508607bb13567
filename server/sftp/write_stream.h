// WriteStream: the loop-side end of one backend Write call (client
// streaming). Messages are queued here and handed to gRPC one at a time;
// Close() half-closes after the queue drains (the backend commits);
// Cancel() or dropping the stream aborts the upload.
//
// Lifetimes follow IncomingStream (incoming_stream.h): a self-deleting
// reactor holds a gRPC hold while the loop side may still start writes;
// completions reach the loop through the poster and a weak_ptr.
//
// Thread safety: every method runs on the loop thread.

#ifndef SFTPGATE_SERVER_SFTP_WRITE_STREAM_H_
#define SFTPGATE_SERVER_SFTP_WRITE_STREAM_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "grpcpp/client_context.h"
#include "server/sftp/backend_context.h"

namespace sftpgate::server::sftp {

class WriteStream : public std::enable_shared_from_this<WriteStream> {
 public:
  struct Handler {
    // gRPC took one queued message (queued_bytes() shrank).
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
  ~WriteStream() { Cancel(); }

  // Queues a chunk message. Ignored once the stream failed or closed.
  void Write(v1::WriteRequest message);
  // Half-closes once every queued message is written. Idempotent.
  void Close();
  // Aborts the call (the backend discards the upload). No handler runs
  // afterwards. Idempotent.
  void Cancel();

  // Payload bytes queued and not yet taken by gRPC.
  size_t queued_bytes() const { return queued_bytes_; }
  bool finished() const { return finished_; }

 private:
  class Reactor;

  WriteStream(std::shared_ptr<LoopPoster> poster, Handler handler);
  void Pump();
  void OnWriteDone(bool ok);
  void OnFinished(const grpc::Status& status, uint64_t committed_size);
  void ReleaseReactor();

  std::shared_ptr<LoopPoster> poster_;
  Handler handler_;
  std::shared_ptr<grpc::ClientContext> context_;
  Reactor* reactor_ = nullptr;  // valid while non-null (we hold it)
  // Messages not yet handed to gRPC.
  std::deque<v1::WriteRequest> queue_;
  // Payload bytes in queue_ plus the message gRPC is writing.
  size_t queued_bytes_ = 0;
  size_t writing_bytes_ = 0;
  bool writing_ = false;
  bool closing_ = false;
  bool broken_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_WRITE_STREAM_H_
