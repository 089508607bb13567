#include "sftpgate/attributes.h"

namespace sftpgate {
namespace {

Attributes MakeAttributes(uint32_t type, uint32_t permissions, uint64_t size,
                          uint32_t nlink, int64_t mtime) {
  Attributes a;
  a.set_mode(type | (permissions & kModePermissionMask));
  a.set_size(size);
  a.set_nlink(nlink);
  a.set_atime(mtime);
  a.set_mtime(mtime);
  return a;
}

}  // namespace

Attributes AttributesFromStat(const struct stat& st) {
  Attributes a;
  a.set_size(static_cast<uint64_t>(st.st_size));
  a.set_uid(st.st_uid);
  a.set_gid(st.st_gid);
  // The contract's type bits equal Linux's S_IF* values; translate anyway
  // so the helper stays correct where they might differ.
  uint32_t type = 0;
  if (S_ISREG(st.st_mode)) {
    type = kModeRegular;
  } else if (S_ISDIR(st.st_mode)) {
    type = kModeDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    type = kModeSymlink;
  } else {
    type = static_cast<uint32_t>(st.st_mode) & kModeTypeMask;
  }
  a.set_mode(type | (static_cast<uint32_t>(st.st_mode) & kModePermissionMask));
  a.set_atime(st.st_atime);
  a.set_mtime(st.st_mtime);
  a.set_nlink(static_cast<uint32_t>(st.st_nlink));
  return a;
}

uint32_t FileType(const Attributes& a) {
  return a.has_mode() ? (a.mode() & kModeTypeMask) : 0;
}

bool IsDirectory(const Attributes& a) { return FileType(a) == kModeDirectory; }

bool IsRegular(const Attributes& a) { return FileType(a) == kModeRegular; }

bool IsSymlink(const Attributes& a) { return FileType(a) == kModeSymlink; }

uint32_t PermissionsOr(const Attributes& a, uint32_t fallback) {
  return (a.has_mode() ? a.mode() : fallback) & kModePermissionMask;
}

Attributes MakeFileAttributes(uint64_t size, uint32_t permissions,
                              int64_t mtime) {
  return MakeAttributes(kModeRegular, permissions, size, 1, mtime);
}

Attributes MakeDirectoryAttributes(uint32_t permissions, int64_t mtime) {
  return MakeAttributes(kModeDirectory, permissions, 0, 2, mtime);
}

Attributes MakeSymlinkAttributes(uint64_t target_length, int64_t mtime) {
  return MakeAttributes(kModeSymlink, 0777, target_length, 1, mtime);
}

}  // namespace sftpgate
