// GrpcWriteStream: WriteStream (backend_client.h) over one gRPC Write
// call (client streaming). Its messages travel as bytes encoded by
// write_request_encoding.h: a chunk's payload is copied once, from the
// client's packet into the slice gRPC sends.
//
// The queue is shared with the call's reactor, which starts the next write
// itself as soon as gRPC finishes one (on a gRPC thread): messages flow
// without a trip through the loop per message. The loop hears about
// progress only while it asks for it (set_want_progress), and always about
// a broken stream and the call's end.
//
// Lifetimes follow GrpcIncomingStream (grpc_incoming_stream.h): a
// self-deleting reactor holds a gRPC hold while the loop side may still
// start writes; completions reach the loop through the poster and a
// weak_ptr.
//
// Thread safety: every method runs on the loop thread.

#ifndef SFTPGATE_SERVER_BACKEND_GRPC_WRITE_STREAM_H_
#define SFTPGATE_SERVER_BACKEND_GRPC_WRITE_STREAM_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "server/backend/backend_client.h"
#include "server/backend/backend_stub.h"

namespace sftpgate::server::backend {

class GrpcWriteStream final
    : public WriteStream,
      public std::enable_shared_from_this<GrpcWriteStream> {
 public:
  // Starts a Write call on `stub` whose first message carries `session`
  // and `header`; queued payload is charged to `budget`.
  static std::shared_ptr<GrpcWriteStream> Start(
      const BackendStub& stub, std::shared_ptr<LoopPoster> poster,
      std::shared_ptr<TransferBudget> budget, const v1::Session& session,
      v1::WriteHeader header, Handler handler);
  ~GrpcWriteStream() override;

  void Write(uint64_t offset, absl::string_view data) override;
  void Close() override;
  void Cancel() override;
  void set_want_progress(bool want) override;
  size_t queued_bytes() const override;
  bool finished() const override { return finished_; }

 private:
  struct Pipe;
  class Reactor;

  GrpcWriteStream(std::shared_ptr<LoopPoster> poster,
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

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_GRPC_WRITE_STREAM_H_
