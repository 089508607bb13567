// The `ls -l` style "longname" of SSH_FXP_NAME entries, formatted as
// OpenSSH's sftp-server does (ls_file in sftp-common.c):
//
//   -rw-r--r--    1 alice    staff        1234 Nov 21 09:40 notes.txt
//
// mode string (type + rwx bits + a space), link count, owner and group
// (the names the backend reports; when it reports none, the session's user
// name, which is what a user of a virtual store recognises, not the numeric
// id of the backend's process; padded to 8),
// size, and the modification time: "%b %e %H:%M" for times within the past
// six months, "%b %e  %Y" otherwise, in the server's local time zone.
//
// Thread safety: pure functions (they read the process time zone).

#ifndef SFTPGATE_SERVER_SFTP_LONG_NAME_H_
#define SFTPGATE_SERVER_SFTP_LONG_NAME_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

// The 10-character mode column ("drwxr-xr-x"), from type and permission
// bits (setuid/setgid/sticky shown as s/S and t/T, as ls does).
std::string ModeString(uint32_t mode);

// The long name of entry `name` with attributes `attrs`, as listed at time
// `now` (seconds since the epoch; decides "recent" vs "old" dates) to
// `session_user`, shown as owner and group the backend did not name (the
// numeric id, or "?", when `session_user` is empty too).
std::string FormatLongName(absl::string_view name, const v1::Attributes& attrs,
                           int64_t now, absl::string_view session_user = "");

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_LONG_NAME_H_
