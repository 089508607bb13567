// One object of the memory backend's tree: a directory, regular file or
// symlink. Directory entries hold std::shared_ptr<Inode>, so a hard-linked
// file is one Inode under several names, and readers, writers and listings
// can keep an Inode alive after it is unlinked.
//
// Thread safety: none of its own. Every field is guarded by the owning
// MemoryBackend's mutex; `data` points to an immutable FileData that may
// be read without it once copied out.

#ifndef SFTPGATE_SAMPLE_BACKENDS_MEMORY_INODE_H_
#define SFTPGATE_SAMPLE_BACKENDS_MEMORY_INODE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "file_data.h"
#include "sftpgate/attributes.h"

namespace sftpgate::memory {

struct Inode {
  enum class Kind { kFile, kDirectory, kSymlink };

  Inode(Kind kind, uint32_t permissions, uint32_t uid, uint32_t gid,
        int64_t now)
      : kind(kind),
        permissions(permissions & kModePermissionMask),
        uid(uid),
        gid(gid),
        atime(now),
        mtime(now),
        nlink(kind == Kind::kDirectory ? 2 : 0) {}

  bool is_directory() const { return kind == Kind::kDirectory; }
  bool is_file() const { return kind == Kind::kFile; }
  bool is_symlink() const { return kind == Kind::kSymlink; }

  // LSTAT-style attributes (a symlink describes itself).
  Attributes ToAttributes() const;

  const Kind kind;
  uint32_t permissions;
  uint32_t uid;
  uint32_t gid;
  int64_t atime;
  int64_t mtime;
  // Names linking to it; for a directory 2 + its subdirectories while
  // linked. 0 once removed from the tree.
  uint32_t nlink;

  // kFile: the published contents (never null for a file).
  std::shared_ptr<const FileData> data;
  // kFile: whole-file digests (by HashAlgorithm) of `digests_of`, the
  // contents they describe; stale once `data` is another snapshot.
  std::shared_ptr<const FileData> digests_of;
  std::map<int, std::string> digests;
  // kDirectory: entries by name, ordered so listings can resume after a
  // name.
  std::map<std::string, std::shared_ptr<Inode>> entries;
  // kSymlink: the target, verbatim.
  std::string target;
};

}  // namespace sftpgate::memory

#endif  // SFTPGATE_SAMPLE_BACKENDS_MEMORY_INODE_H_
