// SessionTree: one session's view of the disk, confined beneath its root.
//
// The security core of the localfs backend. Paths resolve as the contract
// (backend.proto) says: every symlink met is followed beneath the session
// root, an absolute target is read relative to that root, and anything
// that would climb above it is refused with PERMISSION_DENIED.
//
// How: the kernel resolves first, with openat2(2) RESOLVE_BENEATH relative
// to an O_PATH descriptor of the session root. It refuses (EXDEV) exactly
// the lookups that meet an absolute symlink or climb above the root; only
// those are then walked here, one component at a time: each step down is
// openat2(dir, name, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from a
// descriptor already held, ".." pops back to the descriptor held for the
// parent (never asking the kernel for ".."), and a symlink's target is
// read and walked the same way (from the root when absolute). So no path,
// link, chain of links or concurrent rename can reach outside the root.
// RESOLVE_NO_MAGICLINKS is always set (/proc/self/fd/N and friends).
//
// Operations then act on a final name with *at() calls relative to an
// already-resolved parent descriptor, so a final symlink is only followed
// where the caller asks for it.
//
// Errors: StatusFromErrno(errno, what), where the caller's `what` names the
// operation and the request path for the message.
//
// Thread safety: immutable after construction; all methods may be called
// concurrently. Nothing about the tree's contents is cached.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_SESSION_TREE_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_SESSION_TREE_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "unique_fd.h"

namespace sftpgate::localfs {

// Turns a request path (session view, absolute: "/a/b") into the relative
// form the tree resolves ("a/b"; "" for the root). A path that is not
// normalized is folded lexically. INVALID_ARGUMENT for a relative path or
// one holding NUL; PERMISSION_DENIED when ".." climbs above "/".
absl::StatusOr<std::string> ToRelative(absl::string_view path);

// One object to act on: a directory and a single name inside it. `name` is
// never empty and never ".."; "." means `dir` itself (the session root, or
// a directory reached through a link such as "sub/..").
struct Target {
  UniqueFd dir;  // O_PATH|O_DIRECTORY, beneath the session root.
  std::string name;

  bool is_self() const { return name == "."; }
};

class SessionTree {
 public:
  // Takes an O_PATH descriptor of the session's root directory.
  explicit SessionTree(UniqueFd root) : root_(std::move(root)) {}

  int root_fd() const { return root_.get(); }

  // For `rel` as ToRelative makes it: resolves every component but the
  // last and returns (parent, last name); the last component is not looked
  // at. For "" (the root) returns (root, ".").
  absl::StatusOr<Target> Locate(absl::string_view rel,
                                absl::string_view what) const;

  // As Locate, but while the final name is a symlink, follows it (at most
  // 40 links; ELOOP beyond) and returns where it leads. The returned name
  // was not a symlink when checked; it may not exist (the caller may then
  // create it there).
  absl::StatusOr<Target> LocateFollow(absl::string_view rel,
                                      absl::string_view what) const;

  // Opens `rel` (as ToRelative makes it) with `flags` (O_CLOEXEC added),
  // following every symlink, the final one included.
  absl::StatusOr<UniqueFd> Open(absl::string_view rel, int flags,
                                absl::string_view what) const;

  // The session-view path ("/a/b") of the object `fd` refers to, read from
  // /proc/self/fd. NOT_FOUND if it was deleted; FAILED_PRECONDITION if it
  // is no longer beneath the root (moved meanwhile).
  absl::StatusOr<std::string> ViewPathOf(int fd, absl::string_view what) const;

 private:
  // The component-by-component resolution described above, for any
  // relative path (".." and symlinks included). With `follow_final`, a
  // final symlink is followed too.
  absl::StatusOr<Target> Walk(absl::string_view rel, bool follow_final,
                              absl::string_view what) const;

  UniqueFd root_;
};

// Opens `target` itself (a final symlink is not followed: ELOOP) with
// `flags`.
absl::StatusOr<UniqueFd> OpenTarget(const Target& target, int flags,
                                    absl::string_view what);

// openat2(2) with RESOLVE_NO_MAGICLINKS | `resolve`, O_CLOEXEC added,
// retried on EAGAIN. Returns the descriptor or -1 with errno set.
int OpenAt2(int dirfd, const std::string& path, int flags, uint64_t resolve);

// The target of symlink `name` in directory `dirfd`, whatever its length.
absl::StatusOr<std::string> ReadLinkAt(int dirfd, const std::string& name,
                                       absl::string_view what);

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_SESSION_TREE_H_
