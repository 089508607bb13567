#include "session_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errno_status.h"
#include "sftpgate/paths.h"

namespace sftpgate::localfs {
namespace {

// Linux's own limit on symlinks followed in one lookup.
constexpr int kMaxSymlinkHops = 40;
// openat2 answers EAGAIN when a rename elsewhere raced a ".." step; retry
// a bounded number of times before giving up with UNAVAILABLE.
constexpr int kMaxRaceRetries = 64;

std::string ProcFdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

// readlink(2) of a /proc/self/fd magic link: the path the kernel has for
// the open object right now.
absl::StatusOr<std::string> ReadProcFd(int fd, absl::string_view what) {
  char buf[PATH_MAX + 1];
  ssize_t n = ::readlink(ProcFdPath(fd).c_str(), buf, sizeof(buf));
  if (n < 0) return StatusFromErrno(errno, what);
  if (static_cast<size_t>(n) >= sizeof(buf)) {
    return StatusFromErrno(ENAMETOOLONG, what);
  }
  return std::string(buf, n);
}

}  // namespace

int OpenAt2(int dirfd, const std::string& path, int flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0;; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if ((errno != EAGAIN && errno != EINTR) || attempt == kMaxRaceRetries) {
      return -1;
    }
  }
}

absl::StatusOr<std::string> ToRelative(absl::string_view path) {
  if (IsNormalizedPath(path)) return std::string(path.substr(1));
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("path must be absolute: \"", path, "\""));
  }
  // Not normalized (the front end always normalizes): fold it lexically,
  // refusing any ".." that climbs above the root.
  absl::StatusOr<std::string> normalized = ResolveBeneath("/", path);
  if (!normalized.ok()) return normalized.status();
  return normalized->substr(1);
}

absl::StatusOr<std::string> ReadLinkAt(int dirfd, const std::string& name,
                                       absl::string_view what) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, name.c_str(), buf.data(), buf.size());
    if (n < 0) return StatusFromErrno(errno, what);
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(n);
      return buf;
    }
    if (buf.size() > PATH_MAX) return StatusFromErrno(ENAMETOOLONG, what);
    buf.resize(buf.size() * 2);
  }
}

absl::StatusOr<UniqueFd> SessionTree::Open(absl::string_view rel, int flags,
                                           absl::string_view what) const {
  std::string path = rel.empty() ? std::string(".") : std::string(rel);
  int fd = OpenAt2(root_.get(), path, flags, RESOLVE_IN_ROOT);
  if (fd < 0) return StatusFromErrno(errno, what);
  return UniqueFd(fd);
}

absl::StatusOr<Target> SessionTree::Locate(absl::string_view rel,
                                           absl::string_view what) const {
  std::string path(rel);
  while (!path.empty() && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  Target target;
  if (slash == std::string::npos) {
    target.name = path;
  } else {
    target.dir_path = path.substr(0, slash);
    target.name = path.substr(slash + 1);
  }
  if (target.name.empty() || target.name == "." || target.name == "..") {
    // The whole path names a directory (the root, or e.g. a link's
    // "a/.."): act on that directory itself, never on a ".." entry.
    absl::StatusOr<UniqueFd> dir = Open(path, O_PATH | O_DIRECTORY, what);
    if (!dir.ok()) return dir.status();
    target.dir = *std::move(dir);
    target.dir_path = path;
    target.name = ".";
    return target;
  }
  absl::StatusOr<UniqueFd> dir =
      Open(target.dir_path, O_PATH | O_DIRECTORY, what);
  if (!dir.ok()) return dir.status();
  target.dir = *std::move(dir);
  return target;
}

absl::StatusOr<Target> SessionTree::LocateFollow(absl::string_view rel,
                                                 absl::string_view what) const {
  std::string path(rel);
  for (int hops = 0;; ++hops) {
    absl::StatusOr<Target> target = Locate(path, what);
    if (!target.ok() || target->is_self()) return target;
    struct stat st;
    if (::fstatat(target->dir.get(), target->name.c_str(), &st,
                  AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return target;  // missing: may be created there
      return StatusFromErrno(errno, what);
    }
    if (!S_ISLNK(st.st_mode)) return target;
    if (hops == kMaxSymlinkHops) return StatusFromErrno(ELOOP, what);
    absl::StatusOr<std::string> link =
        ReadLinkAt(target->dir.get(), target->name, what);
    if (!link.ok()) return link.status();
    if (link->empty()) return StatusFromErrno(ENOENT, what);
    // The next lookup starts again from the session root: an absolute
    // target is taken relative to it, a relative one is appended to the
    // link's directory (the kernel resolves any ".." in it physically and
    // RESOLVE_IN_ROOT keeps it beneath the root).
    if ((*link)[0] == '/') {
      path = std::move(*link);
    } else if (target->dir_path.empty()) {
      path = std::move(*link);
    } else {
      path = absl::StrCat(target->dir_path, "/", *link);
    }
  }
}

absl::StatusOr<UniqueFd> OpenTarget(const Target& target, int flags,
                                    absl::string_view what) {
  int fd = ::openat(target.dir.get(), target.name.c_str(),
                    flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return StatusFromErrno(errno, what);
  return UniqueFd(fd);
}

absl::StatusOr<std::string> SessionTree::ViewPathOf(
    int fd, absl::string_view what) const {
  absl::StatusOr<std::string> root = ReadProcFd(root_.get(), what);
  if (!root.ok()) return root.status();
  absl::StatusOr<std::string> object = ReadProcFd(fd, what);
  if (!object.ok()) return object.status();
  struct stat st;
  if (::fstat(fd, &st) != 0) return StatusFromErrno(errno, what);
  if (st.st_nlink == 0) return StatusFromErrno(ENOENT, what);  // deleted
  if (*root == "/") return *object;
  if (*object == *root) return std::string("/");
  if (absl::StartsWith(*object, *root) && (*object)[root->size()] == '/') {
    return object->substr(root->size());
  }
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": moved while being resolved"));
}

}  // namespace sftpgate::localfs
