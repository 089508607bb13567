#include "server/backend/backend_stub.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate::server::backend {

BackendStub::BackendStub(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)),
      stub_(v1::Backend::NewStub(channel_)),
      read_method_name_(
          absl::StrCat("/", v1::Backend::service_full_name(), "/Read")),
      list_dir_method_name_(
          absl::StrCat("/", v1::Backend::service_full_name(), "/ListDir")),
      write_method_name_(
          absl::StrCat("/", v1::Backend::service_full_name(), "/Write")),
      read_method_(read_method_name_.c_str(),
                   grpc::internal::RpcMethod::SERVER_STREAMING, channel_),
      list_dir_method_(list_dir_method_name_.c_str(),
                       grpc::internal::RpcMethod::SERVER_STREAMING, channel_),
      write_method_(write_method_name_.c_str(),
                    grpc::internal::RpcMethod::CLIENT_STREAMING, channel_) {}

}  // namespace sftpgate::server::backend
