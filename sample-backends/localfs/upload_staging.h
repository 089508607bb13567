// Where uploads live before they are committed, and how leftovers are told
// apart from users' files.
//
// An upload is written to an anonymous O_TMPFILE in the target's directory:
// it has no name, so it never shows in a listing, never keeps RMDIR from
// emptying the directory, and vanishes with the process if the backend is
// killed. Only at commit is it given a temporary name (kTempPrefix +
// random) for the instant before it is renamed over the target. Every such
// named temporary file carries the extended attribute kUploadMarker, which
// no SFTP client can set: a name that merely looks like ours (a user's own
// ".sftpgate-tmp-x") is a user file and is listed; a marked one is a
// leftover (a crash at that instant, or a filesystem without O_TMPFILE,
// where the whole upload uses a named file) and is hidden, swept at start
// and removed by RMDIR.
//
// Thread-safe: plain functions.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UPLOAD_STAGING_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UPLOAD_STAGING_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "unique_fd.h"

namespace sftpgate::localfs {

inline constexpr absl::string_view kTempPrefix = ".sftpgate-tmp-";
inline constexpr char kUploadMarker[] = "user.sftpgate-upload";

// Creates a named temporary file (O_EXCL, mode 0600) in `dirfd` and marks
// it; returns the descriptor and sets *name, or -1 with errno set.
int CreateMarkedTemp(int dirfd, std::string* name);

// Gives the anonymous file `fd` a marked temporary name in `dirfd`; 0 and
// *name, or -1 with errno set.
int LinkMarkedTemp(int fd, int dirfd, std::string* name);

// True when `name` in `dirfd` is a marked temporary file of ours.
bool IsMarkedTemp(int dirfd, absl::string_view name);

// Removes the marked temporary files directly in directory `dirfd`;
// returns how many.
size_t RemoveMarkedTemps(int dirfd);

// Removes every marked temporary file beneath directory `rootfd` (symlinks
// are not followed); returns how many.
size_t SweepMarkedTemps(int rootfd);

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UPLOAD_STAGING_H_
