#include "tests/sdk/testing/local_server.h"

#include "absl/strings/str_cat.h"

namespace sftpgate::testing {

std::string LocalTarget(const BackendServer& server) {
  return absl::StrCat("127.0.0.1:", server.port());
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           uint32_t max_chunk_size) {
  grpc::ChannelArguments args;
  const int limit = static_cast<int>(max_chunk_size) + 1024 * 1024;
  args.SetMaxReceiveMessageSize(limit);
  args.SetMaxSendMessageSize(limit);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace sftpgate::testing
