// The one mapping from errno values to absl::Status codes used by the
// localfs backend (and so, through the front end, to SFTP status codes).

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_ERRNO_STATUS_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sftpgate::localfs {

// Returns a status for `err` whose message is "<what>: <strerror(err)>".
// `what` names the operation and the path in the session's view (never a
// path on the host: messages reach the client). EXDEV and ELOOP map to
// PERMISSION_DENIED because openat2's RESOLVE_* checks report escape
// attempts with them. Thread-safe.
absl::Status StatusFromErrno(int err, absl::string_view what);

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_ERRNO_STATUS_H_
