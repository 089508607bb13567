// Op: one SFTP request being served, from its decoding to its one reply.
//
// Plain value; thread-compatible.

#ifndef SFTPGATE_SERVER_SFTP_OP_H_
#define SFTPGATE_SERVER_SFTP_OP_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "server/backend/backend_client.h"
#include "sftpgate/v1/events.pb.h"

namespace sftpgate::server::sftp {

struct Op {
  uint32_t id = 0;
  const char* name = "";  // "OPEN", "posix-rename@openssh.com", ...
  int slot = 0;           // metrics slot of `name` (SftpMetrics)
  std::string path;       // for the log
  // The client's path ended in '/' (the normalized one does not): as in
  // POSIX, it must name a directory (a symlink to one is followed).
  bool trailing_slash = false;
  bool modifying = false;
  backend::Clock::time_point start;
  // Reported to SftpSessionOptions::events when the request succeeds
  // (REMOVE, RENAME, MKDIR, RMDIR). A rename names its paths here (`path`
  // above holds both, for the log).
  v1::EventKind event = v1::EVENT_KIND_UNSPECIFIED;
  std::string rename_from;
  std::string rename_to;
  // Output reserved for this request's reply (a READ's, at its full
  // length) until the reply is queued (Replier::ReserveOutput).
  size_t reserved_output = 0;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_OP_H_
