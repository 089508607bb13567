#include "upload_staging.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sftpgate::localfs {
namespace {

constexpr int kMaxNameAttempts = 16;

std::string RandomTempName() {
  char bytes[8] = {};
  // getrandom of <= 256 bytes from the urandom pool does not fail once the
  // pool is initialized; a short read only makes a collision more likely,
  // which O_EXCL / EEXIST handle.
  (void)::getrandom(bytes, sizeof(bytes), 0);
  return absl::StrCat(kTempPrefix, absl::BytesToHexString(absl::string_view(
                                       bytes, sizeof(bytes))));
}

bool Mark(int fd) { return ::fsetxattr(fd, kUploadMarker, "1", 1, 0) == 0; }

// Names in directory `dirfd` (. and .. left out), read through a dup so
// that `dirfd` stays usable.
std::vector<std::string> Names(int dirfd) {
  std::vector<std::string> names;
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return names;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
  if (dir == nullptr) {
    ::close(fd);
    return names;
  }
  while (const struct dirent* ent = ::readdir(dir.get())) {
    absl::string_view name = ent->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  return names;
}

}  // namespace

int CreateMarkedTemp(int dirfd, std::string* name) {
  for (int attempt = 0;; ++attempt) {
    *name = RandomTempName();
    int fd = ::openat(dirfd, name->c_str(),
                      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
      // Unmarked, it would be taken for a user's file: a filesystem
      // without user xattrs still works, its leftovers just stay visible.
      (void)Mark(fd);
      return fd;
    }
    if (errno != EEXIST || attempt == kMaxNameAttempts) return -1;
  }
}

int LinkMarkedTemp(int fd, int dirfd, std::string* name) {
  (void)Mark(fd);
  const std::string proc = absl::StrCat("/proc/self/fd/", fd);
  for (int attempt = 0;; ++attempt) {
    std::string candidate = RandomTempName();
    if (::linkat(AT_FDCWD, proc.c_str(), dirfd, candidate.c_str(),
                 AT_SYMLINK_FOLLOW) == 0) {
      *name = std::move(candidate);
      return 0;
    }
    if (errno != EEXIST || attempt == kMaxNameAttempts) return -1;
  }
}

bool IsMarkedTemp(int dirfd, absl::string_view name) {
  if (!absl::StartsWith(name, kTempPrefix)) return false;
  // Not followed if it is a symlink (users can make those).
  const std::string path = absl::StrCat("/proc/self/fd/", dirfd, "/", name);
  char value[4];
  return ::lgetxattr(path.c_str(), kUploadMarker, value, sizeof(value)) >= 0;
}

size_t RemoveMarkedTemps(int dirfd) {
  size_t removed = 0;
  for (const std::string& name : Names(dirfd)) {
    if (IsMarkedTemp(dirfd, name) && ::unlinkat(dirfd, name.c_str(), 0) == 0) {
      ++removed;
    }
  }
  return removed;
}

size_t SweepMarkedTemps(int rootfd) {
  size_t removed = RemoveMarkedTemps(rootfd);
  for (const std::string& name : Names(rootfd)) {
    int sub = ::openat(rootfd, name.c_str(),
                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;  // not a directory (or a symlink)
    UniqueFd owned(sub);
    removed += SweepMarkedTemps(owned.get());
  }
  return removed;
}

}  // namespace sftpgate::localfs
