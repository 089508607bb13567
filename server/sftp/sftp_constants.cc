#include "server/sftp/sftp_constants.h"

#include <iterator>

namespace sftpgate::server::sftp {
namespace {

// The one table of status codes: the label in logs and metrics, the
// message OpenSSH's sftp-server sends. Indexed by code.
struct StatusNames {
  const char* label;
  const char* message;
};
constexpr StatusNames kStatusNames[] = {
    {"ok", "Success"},                            // kFxOk
    {"eof", "End of file"},                       // kFxEof
    {"no_such_file", "No such file"},             // kFxNoSuchFile
    {"permission_denied", "Permission denied"},   // kFxPermissionDenied
    {"failure", "Failure"},                       // kFxFailure
    {"bad_message", "Bad message"},               // kFxBadMessage
    {"no_connection", "No connection"},           // kFxNoConnection
    {"connection_lost", "Connection lost"},       // kFxConnectionLost
    {"op_unsupported", "Operation unsupported"},  // kFxOpUnsupported
};
constexpr StatusNames kUnknownStatus = {"other", "Unknown error"};

const StatusNames& NamesOf(uint32_t code) {
  return code < std::size(kStatusNames) ? kStatusNames[code] : kUnknownStatus;
}

}  // namespace

const char* StatusCodeMessage(uint32_t code) { return NamesOf(code).message; }

const char* StatusCodeLabel(uint32_t code) { return NamesOf(code).label; }

}  // namespace sftpgate::server::sftp
