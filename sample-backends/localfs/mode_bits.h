// Which permission bits and owners a client may set on files and
// directories, and the umask applied to what it creates.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sftpgate::localfs {

inline constexpr mode_t kSpecialModeBits = 07000;  // setuid, setgid, sticky

struct ModePolicy {
  // Cleared from the mode of every file and directory a client creates
  // (OpenSSH's sftp sends 0777 for mkdir; with 022 it gets 0755). Not
  // applied to an explicit chmod (SETSTAT), as OpenSSH's sftp-server does.
  mode_t umask = 022;
  // Set-user-ID, set-group-ID and sticky bits are refused unless this is
  // set: the backend often runs with more rights than the SFTP user (as
  // root, every file it makes is root's), so honoring them would let a
  // user publish privileged executables on the host.
  bool allow_special_bits = false;
  // Changing a file's owner or group is refused unless this is set (a
  // SETSTAT naming the current owner is not a change and is accepted).
  bool allow_chown = false;

  // The mode bits the backend ever applies.
  mode_t settable() const { return allow_special_bits ? 07777 : 0777; }
  // PERMISSION_DENIED when `mode` asks for special bits that are not
  // allowed; `what` prefixes the message.
  absl::Status Check(mode_t mode, absl::string_view what) const {
    if ((mode & kSpecialModeBits) == 0 || allow_special_bits) {
      return absl::OkStatus();
    }
    return absl::PermissionDeniedError(absl::StrCat(
        what, ": setuid, setgid and sticky bits are not allowed here"));
  }
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_MODE_BITS_H_
