#include "inode.h"

namespace sftpgate::memory {
namespace {

// The size `ls -l` shows for a directory, as on common local filesystems.
constexpr uint64_t kDirectorySize = 4096;

}  // namespace

Attributes Inode::ToAttributes() const {
  Attributes a;
  switch (kind) {
    case Kind::kFile:
      a = MakeFileAttributes(data->size(), permissions, mtime);
      break;
    case Kind::kDirectory:
      a = MakeDirectoryAttributes(permissions, mtime);
      a.set_size(kDirectorySize);
      break;
    case Kind::kSymlink:
      a = MakeSymlinkAttributes(target.size(), mtime);
      break;
  }
  a.set_atime(atime);
  a.set_uid(uid);
  a.set_gid(gid);
  a.set_nlink(nlink);
  return a;
}

}  // namespace sftpgate::memory
