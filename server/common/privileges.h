// Dropping root privileges (--run-as).
//
// sftpgate may be started as root so that it can bind a port below 1024 and
// read root-only key and users files; it then switches to an unprivileged
// user for good, before any connection is accepted:
//   setgroups([gid]) -> setgid(gid) -> setuid(uid)
// and verifies that root cannot be regained (setuid(0) and setgid(0)
// must fail).
//
// Thread safety: call once, from the main thread. glibc applies the id
// changes to every thread of the process, but calling before other threads
// start keeps the reasoning simple.

#ifndef SFTPGATE_SERVER_COMMON_PRIVILEGES_H_
#define SFTPGATE_SERVER_COMMON_PRIVILEGES_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sftpgate::server {

struct RunAsUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Looks `user` up (a name, or a numeric uid). Errors: unknown user, or
// one that is root itself (running as root is what --run-as avoids).
absl::StatusOr<RunAsUser> LookUpRunAsUser(const std::string& user);

// Switches the process to `user` permanently. If the process is already
// running as that user this is a no-op; if it is neither root nor that
// user it fails (only root can switch).
absl::Status DropPrivileges(const RunAsUser& user);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_PRIVILEGES_H_
