// SessionTree: one session's view of the disk, confined beneath its root.
//
// The security core of the localfs backend. Every lookup is done by the
// kernel with openat2(2) and RESOLVE_IN_ROOT relative to an O_PATH
// descriptor of the session root: ".." and every symlink met on the way
// (absolute targets included) resolve as if that directory were "/", so no
// path, link, chain of links or concurrent rename can lead outside it.
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
// a directory reached through a link such as "..").
struct Target {
  UniqueFd dir;  // O_PATH|O_DIRECTORY, beneath the session root.
  std::string name;
  // Relative path of `dir` as it was looked up (lexical: may go through
  // symlinks); used to resolve a relative symlink target found in `dir`.
  std::string dir_path;

  bool is_self() const { return name == "."; }
};

class SessionTree {
 public:
  // Takes an O_PATH descriptor of the session's root directory.
  explicit SessionTree(UniqueFd root) : root_(std::move(root)) {}

  int root_fd() const { return root_.get(); }

  // Resolves every component of relative path `rel` but the last and
  // returns (parent, last name); the last component is not looked at. For
  // "" (the root) returns (root, ".").
  absl::StatusOr<Target> Locate(absl::string_view rel,
                                absl::string_view what) const;

  // As Locate, but while the final name is a symlink, follows it (at most
  // 40 links; ELOOP beyond) and returns where it leads. The returned name
  // was not a symlink when checked; it may not exist (the caller may then
  // create it there).
  absl::StatusOr<Target> LocateFollow(absl::string_view rel,
                                      absl::string_view what) const;

  // openat2(root, rel, flags | O_CLOEXEC) with RESOLVE_IN_ROOT |
  // RESOLVE_NO_MAGICLINKS: follows every symlink, the final one included,
  // beneath the root.
  absl::StatusOr<UniqueFd> Open(absl::string_view rel, int flags,
                                absl::string_view what) const;

  // The session-view path ("/a/b") of the object `fd` refers to, read from
  // /proc/self/fd. NOT_FOUND if it was deleted; FAILED_PRECONDITION if it
  // is no longer beneath the root (moved meanwhile).
  absl::StatusOr<std::string> ViewPathOf(int fd, absl::string_view what) const;

 private:
  UniqueFd root_;
};

// Opens `target` itself (a final symlink is not followed) with `flags`.
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
