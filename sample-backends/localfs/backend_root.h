// BackendRoot: the directory a localfs backend serves, and the door to each
// session's tree beneath it.
//
// Thread safety: immutable after Open(); OpenSession may be called
// concurrently.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_BACKEND_ROOT_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_BACKEND_ROOT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "session_tree.h"
#include "unique_fd.h"

namespace sftpgate::localfs {

class BackendRoot {
 public:
  // Opens directory `dir` and checks everything the backend relies on: it
  // exists, is a directory we may read and search, the kernel has
  // openat2(2), and /proc/self/fd is there. On failure the status message
  // names the problem in words fit for an operator's terminal.
  static absl::StatusOr<BackendRoot> Open(const std::string& dir);

  // Opens the tree of a session whose root is `session_root` (absolute,
  // e.g. "/alice"; "/" is this whole directory). The session root is looked
  // up with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, so it cannot leave this
  // directory nor be redirected by a symlink anywhere on its way
  // (PERMISSION_DENIED), and is created (0755, with any missing parents)
  // on first use.
  absl::StatusOr<SessionTree> OpenSession(absl::string_view session_root) const;

  // Removes the temporary files that uploads of a killed backend left
  // anywhere beneath this directory (upload_staging.h); returns how many.
  size_t SweepUploadLeftovers() const;

 private:
  explicit BackendRoot(UniqueFd fd) : fd_(std::move(fd)) {}

  UniqueFd fd_;  // O_PATH|O_DIRECTORY
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_BACKEND_ROOT_H_
