#include "server/backend/backend_channel.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace sftpgate::server {
namespace {

// Methods that gRPC may send again after UNAVAILABLE or CANCELLED (a
// replica shutting down cancels calls that reach it too late; our own
// cancellations are never retried): they change nothing. ListDir is a
// stream, retried only until its first response arrives (DirListing
// resumes it after that).
constexpr const char* kRetryableMethods[] = {"Describe", "Stat",   "RealPath",
                                             "ReadLink", "StatFs", "ListDir"};

}  // namespace

std::string BackendServiceConfigJson(const BackendChannelOptions& options) {
  std::string names = absl::StrJoin(
      kRetryableMethods, ",", [](std::string* out, const char* method) {
        absl::StrAppend(out, R"({"service":"sftpgate.v1.Backend","method":")",
                        method, R"("})");
      });
  std::string config = R"({"loadBalancingConfig":[{"round_robin":{}}],)";
  if (options.health_check) {
    absl::StrAppend(&config, R"("healthCheckConfig":{"serviceName":""},)");
  }
  absl::StrAppend(&config, R"("methodConfig":[{"name":[)", names,
                  R"(],"retryPolicy":{"maxAttempts":3,)",
                  R"("initialBackoff":"0.05s","maxBackoff":"0.5s",)",
                  R"("backoffMultiplier":2,)",
                  R"("retryableStatusCodes":["UNAVAILABLE","CANCELLED"]}}]})");
  return config;
}

std::shared_ptr<grpc::Channel> MakeBackendChannel(
    const BackendChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetServiceConfigJSON(BackendServiceConfigJson(options));
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 1);
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  if (options.keepalive_time_ms > 0) {
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_time_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  }
  if (options.http2_stream_window_bytes > 0) {
    args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES,
                options.http2_stream_window_bytes);
  }
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(options.target,
                                   options.credentials != nullptr
                                       ? options.credentials
                                       : grpc::InsecureChannelCredentials(),
                                   args);
}

std::shared_ptr<const backend::BackendStub> MakeBackendStub(
    const BackendChannelOptions& options) {
  return std::make_shared<const backend::BackendStub>(
      MakeBackendChannel(options));
}

}  // namespace sftpgate::server
