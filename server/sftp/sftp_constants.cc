#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {

const char* StatusCodeMessage(uint32_t code) {
  switch (code) {
    case kFxOk:
      return "Success";
    case kFxEof:
      return "End of file";
    case kFxNoSuchFile:
      return "No such file";
    case kFxPermissionDenied:
      return "Permission denied";
    case kFxFailure:
      return "Failure";
    case kFxBadMessage:
      return "Bad message";
    case kFxNoConnection:
      return "No connection";
    case kFxConnectionLost:
      return "Connection lost";
    case kFxOpUnsupported:
      return "Operation unsupported";
    default:
      return "Unknown error";
  }
}

}  // namespace sftpgate::server::sftp
