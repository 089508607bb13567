#include "server/backend/grpc_backend_client.h"

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "server/backend/backend_metrics.h"
#include "server/backend/grpc_incoming_stream.h"
#include "server/backend/grpc_write_stream.h"

namespace sftpgate::server::backend {
namespace {

class GrpcBackendClient final
    : public BackendClient,
      public std::enable_shared_from_this<GrpcBackendClient> {
 public:
  GrpcBackendClient(std::shared_ptr<const BackendStub> stub,
                    BackendClientOptions options)
      : stub_(std::move(stub)), options_(std::move(options)) {}
  ~GrpcBackendClient() override { Shutdown(); }

  void Describe(v1::DescribeRequest request,
                Done<v1::DescribeResponse> done) override {
    Call(&BackendAsync::Describe, std::move(request), std::move(done));
  }
  void Stat(v1::StatRequest request, Done<v1::StatResponse> done) override {
    Call(&BackendAsync::Stat, std::move(request), std::move(done));
  }
  void MakeDir(v1::MakeDirRequest request,
               Done<v1::MakeDirResponse> done) override {
    Call(&BackendAsync::MakeDir, std::move(request), std::move(done));
  }
  void RemoveDir(v1::RemoveDirRequest request,
                 Done<v1::RemoveDirResponse> done) override {
    Call(&BackendAsync::RemoveDir, std::move(request), std::move(done));
  }
  void Remove(v1::RemoveRequest request,
              Done<v1::RemoveResponse> done) override {
    Call(&BackendAsync::Remove, std::move(request), std::move(done));
  }
  void Rename(v1::RenameRequest request,
              Done<v1::RenameResponse> done) override {
    Call(&BackendAsync::Rename, std::move(request), std::move(done));
  }
  void SetStat(v1::SetStatRequest request,
               Done<v1::SetStatResponse> done) override {
    Call(&BackendAsync::SetStat, std::move(request), std::move(done));
  }
  void Symlink(v1::SymlinkRequest request,
               Done<v1::SymlinkResponse> done) override {
    Call(&BackendAsync::Symlink, std::move(request), std::move(done));
  }
  void ReadLink(v1::ReadLinkRequest request,
                Done<v1::ReadLinkResponse> done) override {
    Call(&BackendAsync::ReadLink, std::move(request), std::move(done));
  }
  void Link(v1::LinkRequest request, Done<v1::LinkResponse> done) override {
    Call(&BackendAsync::Link, std::move(request), std::move(done));
  }
  void RealPath(v1::RealPathRequest request,
                Done<v1::RealPathResponse> done) override {
    Call(&BackendAsync::RealPath, std::move(request), std::move(done));
  }
  void StatFs(v1::StatFsRequest request,
              Done<v1::StatFsResponse> done) override {
    Call(&BackendAsync::StatFs, std::move(request), std::move(done));
  }
  void Usage(v1::UsageRequest request, Done<v1::UsageResponse> done) override {
    Call(&BackendAsync::Usage, std::move(request), std::move(done));
  }
  void Hash(v1::HashRequest request, Done<v1::HashResponse> done) override {
    Call(&BackendAsync::Hash, std::move(request), std::move(done));
  }

  std::shared_ptr<IncomingStream<DataChunk>> Read(
      v1::ReadRequest request,
      IncomingStream<DataChunk>::Handler handler) override {
    *request.mutable_session() = options_.session;
    // A raw call: its chunks are decoded by DataChunk (backend_stub.h).
    return GrpcIncomingStream<DataChunk, grpc::ByteBuffer>::Start(
        options_.poster, std::move(request), std::move(handler),
        [stub = stub_.get()](grpc::ClientContext* context,
                             const v1::ReadRequest* request,
                             grpc::ClientReadReactor<grpc::ByteBuffer>* r) {
          grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(
              stub->channel().get(), stub->read_method(), context, request, r);
        });
  }

  std::shared_ptr<IncomingStream<v1::ListDirResponse>> ListDir(
      v1::ListDirRequest request,
      IncomingStream<v1::ListDirResponse>::Handler handler) override {
    *request.mutable_session() = options_.session;
    // A raw call, decoded here, so that a batch gRPC cannot parse fails the
    // listing instead of silently ending it (backend_stub.h).
    return GrpcIncomingStream<v1::ListDirResponse, grpc::ByteBuffer>::Start(
        options_.poster, std::move(request), std::move(handler),
        [stub = stub_.get()](grpc::ClientContext* context,
                             const v1::ListDirRequest* request,
                             grpc::ClientReadReactor<grpc::ByteBuffer>* r) {
          grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(
              stub->channel().get(), stub->list_dir_method(), context, request,
              r);
        });
  }

  std::shared_ptr<WriteStream> Write(v1::WriteHeader header,
                                     WriteStream::Handler handler) override {
    return GrpcWriteStream::Start(*stub_, options_.poster, options_.budget,
                                  options_.session, std::move(header),
                                  std::move(handler));
  }

  void Shutdown() override {
    shut_down_ = true;
    for (auto& [id, context] : calls_) context->TryCancel();
    calls_.clear();
  }

  std::chrono::milliseconds call_timeout() const override {
    return options_.call_timeout;
  }
  TransferBudget& budget() const override { return *options_.budget; }

 private:
  template <typename Req, typename Resp>
  using UnaryMethod = void (BackendAsync::*)(grpc::ClientContext*, const Req*,
                                             Resp*,
                                             std::function<void(grpc::Status)>);

  // Starts a unary call with the session and the deadline stamped; `done`
  // runs on the loop unless the client shut down (or died) first.
  template <typename Req, typename Resp>
  void Call(UnaryMethod<Req, Resp> method, Req request, Done<Resp> done) {
    struct State {
      grpc::ClientContext context;
      Req request;
      Resp response;
      Done<Resp> done;
    };
    auto state = std::make_shared<State>();
    state->request = std::move(request);
    *state->request.mutable_session() = options_.session;
    state->context.set_deadline(std::chrono::system_clock::now() +
                                options_.call_timeout);
    state->done = std::move(done);
    const uint64_t call_id = next_call_id_++;
    calls_.emplace(
        call_id, std::shared_ptr<grpc::ClientContext>(state, &state->context));
    (stub_->async()->*method)(
        &state->context, &state->request, &state->response,
        [poster = options_.poster, weak = weak_from_this(), state, call_id,
         start = Clock::now()](grpc::Status status) {
          BackendCallHistogram<Req>()->Observe(
              std::chrono::duration<double>(Clock::now() - start).count());
          poster->Post([weak, state, call_id, status = std::move(status)] {
            auto self = weak.lock();
            if (self == nullptr) return;
            self->calls_.erase(call_id);
            if (self->shut_down_) return;
            state->done(status, state->response);
          });
        });
  }

  const std::shared_ptr<const BackendStub> stub_;
  const BackendClientOptions options_;
  bool shut_down_ = false;
  // Unary calls in flight, to cancel at Shutdown().
  absl::flat_hash_map<uint64_t, std::shared_ptr<grpc::ClientContext>> calls_;
  uint64_t next_call_id_ = 1;
};

}  // namespace

std::shared_ptr<BackendClient> NewGrpcBackendClient(
    std::shared_ptr<const BackendStub> stub, BackendClientOptions options) {
  return std::make_shared<GrpcBackendClient>(std::move(stub),
                                             std::move(options));
}

BackendClientFactory GrpcBackendClientFactory(
    std::shared_ptr<const BackendStub> stub) {
  return [stub = std::move(stub)](BackendClientOptions options) {
    return NewGrpcBackendClient(stub, std::move(options));
  };
}

}  // namespace sftpgate::server::backend
