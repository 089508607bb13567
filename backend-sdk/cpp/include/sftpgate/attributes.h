// Helpers to build and inspect Attributes (backend.proto) in backends.
//
// Thread safety: all functions are pure and safe to call concurrently.

#ifndef SFTPGATE_ATTRIBUTES_H_
#define SFTPGATE_ATTRIBUTES_H_

#include <sys/stat.h>

#include <cstdint>

#include "sftpgate/v1/backend.pb.h"

namespace sftpgate {

using Attributes = v1::Attributes;

// POSIX file type bits of Attributes.mode, with the values the contract
// fixes (independent of the platform's S_IF* macros).
inline constexpr uint32_t kModeTypeMask = 0170000;
inline constexpr uint32_t kModeRegular = 0100000;
inline constexpr uint32_t kModeDirectory = 0040000;
inline constexpr uint32_t kModeSymlink = 0120000;
// Permission bits (including setuid, setgid and sticky).
inline constexpr uint32_t kModePermissionMask = 07777;

// Default permissions for objects created without explicit ones.
inline constexpr uint32_t kDefaultFilePermissions = 0644;
inline constexpr uint32_t kDefaultDirectoryPermissions = 0755;

// Attributes of a stat(2) result: size, uid, gid, mode (type + permission
// bits), atime, mtime and nlink. Owner and group names are left empty.
Attributes AttributesFromStat(const struct stat& st);

// The type bits of `a.mode()` (0 when the mode is unset).
uint32_t FileType(const Attributes& a);
// True when the mode is set and has that type.
bool IsDirectory(const Attributes& a);
bool IsRegular(const Attributes& a);
bool IsSymlink(const Attributes& a);

// The permission bits requested in `a` (for MakeDir, SetStat and created
// files), or `fallback` when the mode is unset. Type bits are dropped.
uint32_t PermissionsOr(const Attributes& a, uint32_t fallback);

// Complete attributes for the three object kinds. `permissions` is masked
// with kModePermissionMask; nlink is 1 for files and symlinks and 2 for
// directories; times are seconds since the epoch.
Attributes MakeFileAttributes(uint64_t size, uint32_t permissions,
                              int64_t mtime);
Attributes MakeDirectoryAttributes(uint32_t permissions, int64_t mtime);
// A symlink's size is the length of its target; its permissions are 0777.
Attributes MakeSymlinkAttributes(uint64_t target_length, int64_t mtime);

}  // namespace sftpgate

#endif  // SFTPGATE_ATTRIBUTES_H_
