#include "server/sftp/status_mapping.h"

#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

SftpStatus Map(grpc::StatusCode code, const std::string& message) {
  uint32_t sftp = kFxFailure;
  switch (code) {
    case grpc::StatusCode::OK:
      return {kFxOk, StatusCodeMessage(kFxOk)};
    case grpc::StatusCode::NOT_FOUND:
      sftp = kFxNoSuchFile;
      break;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      sftp = kFxPermissionDenied;
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      sftp = kFxOpUnsupported;
      break;
    case grpc::StatusCode::OUT_OF_RANGE:
      sftp = kFxEof;
      break;
    case grpc::StatusCode::INVALID_ARGUMENT:
      sftp = kFxBadMessage;
      break;
    case grpc::StatusCode::UNAVAILABLE:
      return {kFxFailure, "backend unavailable"};
    case grpc::StatusCode::CANCELLED:
      // Only the backend's side can have cancelled a call whose answer we
      // still map (a replica shutting down): our own cancels go unheard.
      return {kFxFailure, "backend unavailable (call cancelled)"};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {kFxFailure, "backend timed out"};
    default:
      sftp = kFxFailure;
      break;
  }
  return {sftp, message.empty() ? StatusCodeMessage(sftp) : message};
}

}  // namespace

SftpStatus ToSftpStatus(const grpc::Status& status) {
  return Map(status.error_code(), status.error_message());
}

SftpStatus ToSftpStatus(const absl::Status& status) {
  return Map(static_cast<grpc::StatusCode>(status.code()),
             std::string(status.message()));
}

}  // namespace sftpgate::server::sftp
