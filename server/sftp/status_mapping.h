// The one mapping from backend (gRPC) status to SFTP v3 status, exactly as
// the table in proto/sftpgate/v1/backend.proto states.
//
// Thread safety: pure functions.

#ifndef SFTPGATE_SERVER_SFTP_STATUS_MAPPING_H_
#define SFTPGATE_SERVER_SFTP_STATUS_MAPPING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sftpgate::server::sftp {

struct SftpStatus {
  uint32_t code;        // SSH_FX_*
  std::string message;  // for the client: the backend's message, or the
                        // code's default text when it gave none
};

// OK->OK, NOT_FOUND->NO_SUCH_FILE, PERMISSION_DENIED and UNAUTHENTICATED->
// PERMISSION_DENIED, UNIMPLEMENTED->OP_UNSUPPORTED, OUT_OF_RANGE->EOF,
// INVALID_ARGUMENT->BAD_MESSAGE, everything else->FAILURE.
// UNAVAILABLE and DEADLINE_EXCEEDED say "backend unavailable" / "backend
// timed out" rather than gRPC's transport detail (which names internal
// addresses).
SftpStatus ToSftpStatus(const grpc::Status& status);

// The same mapping for absl::Status (front-end checks, e.g. path errors);
// absl and gRPC share the canonical code numbers.
SftpStatus ToSftpStatus(const absl::Status& status);

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_STATUS_MAPPING_H_
