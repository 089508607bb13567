#include "session_tree.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errno_status.h"
#include "sftpgate/paths.h"

namespace sftpgate::localfs {
namespace {

// Linux's own limit on symlinks followed in one lookup.
constexpr int kMaxSymlinkHops = 40;
// openat2 answers EAGAIN when a rename elsewhere raced a ".." step; retry
// a bounded number of times before giving up (UNAVAILABLE).
constexpr int kMaxRaceRetries = 64;

// One step of Walk: a single name beneath a held directory, no symlink.
constexpr uint64_t kStepDown = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;

// Puts the components of `path` (except "" and ".") in front of `pending`,
// in order.
void PushComponents(absl::string_view path, std::deque<std::string>* pending) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (*it != ".") pending->emplace_front(*it);
  }
}

// A Target for `name` in `dir` (a descriptor that stays with the caller).
absl::StatusOr<Target> MakeTarget(int dir, std::string name,
                                  absl::string_view what) {
  UniqueFd copy(::fcntl(dir, F_DUPFD_CLOEXEC, 0));
  if (!copy.valid()) return StatusFromErrno(errno, what);
  return Target{std::move(copy), std::move(name)};
}

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

absl::StatusOr<Target> SessionTree::Locate(absl::string_view rel,
                                           absl::string_view what) const {
  if (rel.empty()) return MakeTarget(root_.get(), ".", what);
  if (!IsNormalizedPath(absl::StrCat("/", rel))) return Walk(rel, false, what);
  const size_t slash = rel.rfind('/');
  const std::string parent = slash == absl::string_view::npos
                                 ? "."
                                 : std::string(rel.substr(0, slash));
  const std::string name(
      slash == absl::string_view::npos ? rel : rel.substr(slash + 1));
  int fd = OpenAt2(root_.get(), parent, O_PATH | O_DIRECTORY, RESOLVE_BENEATH);
  if (fd >= 0) return Target{UniqueFd(fd), name};
  if (errno != EXDEV) return StatusFromErrno(errno, what);
  return Walk(rel, false, what);
}

absl::StatusOr<Target> SessionTree::LocateFollow(absl::string_view rel,
                                                 absl::string_view what) const {
  absl::StatusOr<Target> target = Locate(rel, what);
  if (!target.ok() || target->is_self()) return target;
  struct stat st;
  if (::fstatat(target->dir.get(), target->name.c_str(), &st,
                AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return target;  // missing: may be created there
    return StatusFromErrno(errno, what);
  }
  if (!S_ISLNK(st.st_mode)) return target;
  return Walk(rel, true, what);
}

absl::StatusOr<UniqueFd> SessionTree::Open(absl::string_view rel, int flags,
                                           absl::string_view what) const {
  const std::string path = rel.empty() ? "." : std::string(rel);
  int fd = OpenAt2(root_.get(), path, flags, RESOLVE_BENEATH);
  if (fd < 0 && errno == EXDEV) {
    absl::StatusOr<Target> target = Walk(rel, true, what);
    if (!target.ok()) return target.status();
    fd = OpenAt2(target->dir.get(), target->name, flags, kStepDown);
  }
  if (fd < 0) return StatusFromErrno(errno, what);
  return UniqueFd(fd);
}

absl::StatusOr<Target> SessionTree::Walk(absl::string_view rel,
                                         bool follow_final,
                                         absl::string_view what) const {
  // dirs[i] is the directory at depth i + 1 on the way down; the root is
  // root_. ".." pops; an absolute link target clears.
  std::vector<UniqueFd> dirs;
  auto top = [&] { return dirs.empty() ? root_.get() : dirs.back().get(); };
  std::deque<std::string> pending;
  PushComponents(rel, &pending);
  int hops = 0;
  while (!pending.empty()) {
    const std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == "..") {
      if (dirs.empty()) {
        return absl::PermissionDeniedError(
            absl::StrCat(what, ": leads outside the root"));
      }
      dirs.pop_back();
      continue;
    }
    const bool last = pending.empty();
    struct stat st;
    if (::fstatat(top(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT && last) return MakeTarget(top(), name, what);
      return StatusFromErrno(errno, what);
    }
    if (S_ISLNK(st.st_mode) && (!last || follow_final)) {
      if (++hops > kMaxSymlinkHops) return StatusFromErrno(ELOOP, what);
      absl::StatusOr<std::string> link = ReadLinkAt(top(), name, what);
      if (!link.ok()) return link.status();
      if (link->empty()) return StatusFromErrno(ENOENT, what);
      if ((*link)[0] == '/') dirs.clear();  // relative to the session root
      PushComponents(*link, &pending);
      continue;
    }
    if (last) return MakeTarget(top(), name, what);
    // A single name, no symlink allowed (it was not one a moment ago).
    int fd = OpenAt2(top(), name, O_PATH | O_DIRECTORY, kStepDown);
    if (fd < 0) return StatusFromErrno(errno, what);
    dirs.emplace_back(fd);
  }
  // Nothing after the last ".." or link: the directory reached itself.
  return MakeTarget(top(), ".", what);
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
