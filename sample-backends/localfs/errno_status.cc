#include "errno_status.h"

#include <errno.h>
#include <string.h>

#include "absl/strings/str_cat.h"

namespace sftpgate::localfs {
namespace {

absl::StatusCode CodeFor(int err) {
  switch (err) {
    case ENOENT:
      return absl::StatusCode::kNotFound;
    case EACCES:
    case EPERM:
    case EROFS:
    case EXDEV:  // RESOLVE_BENEATH escape (or a cross-device move)
    case ELOOP:  // RESOLVE_NO_MAGICLINKS, O_NOFOLLOW, symlink loops
    case ETXTBSY:
      return absl::StatusCode::kPermissionDenied;
    case EEXIST:
      return absl::StatusCode::kAlreadyExists;
    case ENOTEMPTY:
    case ENOTDIR:
    case EISDIR:
    case EBUSY:
    case ENXIO:  // e.g. a FIFO opened for writing without a reader
    case EMLINK:
      return absl::StatusCode::kFailedPrecondition;
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return absl::StatusCode::kResourceExhausted;
    case EINVAL:
    case ENAMETOOLONG:
      return absl::StatusCode::kInvalidArgument;
    case EOPNOTSUPP:
    case ENOSYS:
      return absl::StatusCode::kUnimplemented;
    case EAGAIN:
    case EINTR:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

absl::Status StatusFromErrno(int err, absl::string_view what) {
  char buf[128];
  // GNU strerror_r returns the message (maybe not in buf).
  const char* text = strerror_r(err, buf, sizeof(buf));
  return absl::Status(CodeFor(err), absl::StrCat(what, ": ", text));
}

}  // namespace sftpgate::localfs
