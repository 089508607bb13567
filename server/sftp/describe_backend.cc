#include "server/sftp/describe_backend.h"

#include <utility>

#include "server/common/log.h"

namespace sftpgate::server::sftp {

void DescribeBackend(
    backend::BackendClient& backend, const v1::Session& session,
    absl::AnyInvocable<void(const grpc::Status&, v1::DescribeResponse)> done) {
  backend.Describe(
      v1::DescribeRequest(),
      [&session, done = std::move(done)](const grpc::Status& status,
                                         v1::DescribeResponse& caps) mutable {
        if (!status.ok()) {
          LogEvent(LogLevel::kWarning, "backend_describe_failed",
                   {{"session", session.session_id()},
                    {"user", session.user()},
                    {"error", status.error_message()}});
          caps.Clear();
        }
        done(status, std::move(caps));
      });
}

}  // namespace sftpgate::server::sftp
