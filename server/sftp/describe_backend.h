// DescribeBackend: asks a session's backend for its capabilities, the
// first call of every SFTP and exec session.

#ifndef SFTPGATE_SERVER_SFTP_DESCRIBE_BACKEND_H_
#define SFTPGATE_SERVER_SFTP_DESCRIBE_BACKEND_H_

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_client.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

// Calls Describe on `backend` and runs `done` once on the loop with the
// call's status and the backend's answer. If the call fails, logs a
// warning naming `session` and runs `done` with the error and an empty
// response (every optional capability absent), so a caller that can serve
// without them may; one that needs them knows they are unknown (not
// absent) and may ask again. Never runs `done` after the backend client's
// Shutdown(). `backend` and `session` must outlive the call.
void DescribeBackend(
    backend::BackendClient& backend, const v1::Session& session,
    absl::AnyInvocable<void(const grpc::Status&, v1::DescribeResponse)> done);

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_DESCRIBE_BACKEND_H_
