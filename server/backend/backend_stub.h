// BackendStub: the Backend service's stub for one target, together with
// the channel under it.
//
// Every call goes through the generated stub except the two that carry
// file data, which go out as raw bytes on the same channel: Write, whose
// chunk messages the front end encodes itself straight from the client's
// bytes (write_request_encoding.h), saving the copy into a protobuf message
// and the copy gRPC makes when it serializes one; and Read, whose chunks it
// decodes itself into buffers an SFTP reply is framed in (data_chunk.h),
// saving the copy out of a protobuf message into the reply.
//
// Thread safety: immutable after construction; shared by every session
// on every loop (gRPC stubs and channels are thread-safe).

#ifndef SFTPGATE_SERVER_BACKEND_BACKEND_STUB_H_
#define SFTPGATE_SERVER_BACKEND_BACKEND_STUB_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/impl/rpc_method.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::server::backend {

class BackendStub {
 public:
  // Calls go out on `channel` (must not be null).
  explicit BackendStub(std::shared_ptr<grpc::Channel> channel);

  BackendStub(const BackendStub&) = delete;
  BackendStub& operator=(const BackendStub&) = delete;

  // The generated stub, for every method but the raw Read and Write below.
  v1::Backend::StubInterface* stub() const { return stub_.get(); }
  v1::Backend::StubInterface::async_interface* async() const {
    return stub_->async();
  }

  // The channel (also what the front end watches for its health metrics)
  // and the three streaming methods, for raw calls: Backend.Read, whose
  // response messages are grpc::ByteBuffers holding encoded ReadChunks,
  // Backend.ListDir, the same holding ListDirResponses, and Backend.Write,
  // whose request messages are grpc::ByteBuffers holding encoded
  // WriteRequests. (A response gRPC itself fails to parse only stops the
  // reads, and the backend's OK would then end the stream as if complete;
  // decoded by the front end, it ends the stream with an error.)
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  const grpc::internal::RpcMethod& read_method() const { return read_method_; }
  const grpc::internal::RpcMethod& list_dir_method() const {
    return list_dir_method_;
  }
  const grpc::internal::RpcMethod& write_method() const {
    return write_method_;
  }

 private:
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<v1::Backend::StubInterface> stub_;
  // "/sftpgate.v1.Backend/Read" and ".../Write"; RpcMethod keeps a pointer
  // into its name.
  const std::string read_method_name_;
  const std::string list_dir_method_name_;
  const std::string write_method_name_;
  const grpc::internal::RpcMethod read_method_;
  const grpc::internal::RpcMethod list_dir_method_;
  const grpc::internal::RpcMethod write_method_;
};

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_BACKEND_STUB_H_
