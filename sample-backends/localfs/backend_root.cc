#include "backend_root.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errno_status.h"
#include "upload_staging.h"

namespace sftpgate::localfs {
namespace {

constexpr uint64_t kBeneath = RESOLVE_BENEATH;
// Session roots are looked up without following any symlink: a link
// inside the store (which a user with a wider root may have planted) must
// not redirect another user's session into a third user's tree.
constexpr uint64_t kSessionRootLookup = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;

absl::Status SessionRootError(int error, absl::string_view what) {
  if (error == ELOOP) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, " is or passes through a symlink"));
  }
  return StatusFromErrno(error, what);
}

absl::Status RootError(const std::string& dir, absl::string_view problem) {
  return absl::FailedPreconditionError(
      absl::StrCat("--root ", dir, ": ", problem));
}

}  // namespace

absl::StatusOr<BackendRoot> BackendRoot::Open(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("--root is required");
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    switch (errno) {
      case ENOENT:
        return RootError(dir, "does not exist");
      case ENOTDIR:
        return RootError(dir, "is not a directory");
      case EACCES:
        return RootError(dir, "is not accessible (permission denied)");
      default:
        return RootError(dir, strerror(errno));
    }
  }
  if (::faccessat(fd.get(), ".", R_OK | X_OK, AT_EACCESS) != 0) {
    return RootError(dir, "is not accessible (need read and search rights)");
  }
  UniqueFd probe(OpenAt2(fd.get(), ".", O_PATH | O_DIRECTORY, kBeneath));
  if (!probe.valid()) {
    if (errno == ENOSYS || errno == EPERM) {
      return absl::UnimplementedError(
          "openat2(2) is not available (needs Linux 5.6 or later, and no "
          "seccomp filter blocking it); refusing to serve without it");
    }
    return RootError(dir, absl::StrCat("openat2 failed: ", strerror(errno)));
  }
  if (::access("/proc/self/fd", R_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(
        "/proc/self/fd is not available (mount /proc)");
  }
  return BackendRoot(std::move(fd));
}

absl::StatusOr<SessionTree> BackendRoot::OpenSession(
    absl::string_view session_root) const {
  constexpr absl::string_view kWhat = "session root";
  absl::StatusOr<std::string> rel = ToRelative(session_root);
  if (!rel.ok()) return rel.status();
  const int flags = O_PATH | O_DIRECTORY;
  int fd =
      OpenAt2(fd_.get(), rel->empty() ? "." : *rel, flags, kSessionRootLookup);
  if (fd >= 0) return SessionTree(UniqueFd(fd));
  if (errno != ENOENT) return SessionRootError(errno, kWhat);

  // First use: create the missing directories one by one, each beneath the
  // backend root (a concurrent creator is fine: EEXIST is success).
  UniqueFd parent(OpenAt2(fd_.get(), ".", flags, kBeneath));
  if (!parent.valid()) return StatusFromErrno(errno, kWhat);
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(*rel, '/')) {
    const std::string name(part);
    absl::StrAppend(&prefix, prefix.empty() ? "" : "/", name);
    fd = OpenAt2(fd_.get(), prefix, flags, kSessionRootLookup);
    if (fd < 0 && errno == ENOENT) {
      if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
        return StatusFromErrno(errno, kWhat);
      }
      fd = OpenAt2(fd_.get(), prefix, flags, kSessionRootLookup);
    }
    if (fd < 0) return SessionRootError(errno, kWhat);
    parent.reset(fd);
  }
  return SessionTree(std::move(parent));
}

size_t BackendRoot::SweepUploadLeftovers() const {
  return SweepMarkedTemps(fd_.get());
}

}  // namespace sftpgate::localfs
