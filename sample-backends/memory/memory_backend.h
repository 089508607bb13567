// MemoryBackend: a complete filesystem held in memory, for tests, demos
// and benchmarks of the front end without disk I/O.
//
// One tree serves every session. Each session is confined to the subtree
// at Session.root; that directory (and any missing parents) is created on
// first use, so per-user roots need no provisioning. Inside a session:
// directories, regular files, symlinks (stored verbatim; an absolute
// target is read from the session root, a relative one from the link's
// directory; more than 40 links while resolving one path fail with
// FAILED_PRECONDITION; a target climbing above the root is refused with
// PERMISSION_DENIED) and hard links (files only). Uploads are staged
// privately and published atomically on Commit (last commit wins when two
// uploads to one file overlap); Abort leaves no trace. Writers take any
// offset (AcceptsRandomWrites). atime is set on creation and by SetStat
// only (as with noatime). Read-only sessions get PERMISSION_DENIED for
// every modification.
//
// Capacity: the sum of file sizes may not exceed `capacity` bytes and the
// number of objects `max_inodes` (RESOURCE_EXHAUSTED); StatFs reports
// these figures.
//
// Thread safety: every method is thread-safe. One mutex guards the tree;
// file contents are immutable snapshots, so a reader streams without
// holding it, and a listing takes it once per batch only.

#ifndef SFTPGATE_SAMPLE_BACKENDS_MEMORY_MEMORY_BACKEND_H_
#define SFTPGATE_SAMPLE_BACKENDS_MEMORY_MEMORY_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "inode.h"
#include "sftpgate/backend.h"

namespace sftpgate::memory {

struct MemoryBackendOptions {
  // Most bytes of file contents held at once.
  uint64_t capacity = uint64_t{1} << 30;
  // Most objects (files, directories, symlinks) at once.
  uint64_t max_inodes = uint64_t{1} << 20;
  // Owner of created objects.
  uint32_t uid = 0;
  uint32_t gid = 0;
};

class MemoryBackend : public Backend {
 public:
  explicit MemoryBackend(const MemoryBackendOptions& options = {});
  ~MemoryBackend() override;

  std::string Name() const override { return "memory 1.0"; }
  absl::StatusOr<Attributes> Stat(const Session& session,
                                  absl::string_view path,
                                  bool follow_symlinks) override;
  absl::Status MakeDir(const Session& session, absl::string_view path,
                       const Attributes& attributes) override;
  absl::Status RemoveDir(const Session& session,
                         absl::string_view path) override;
  absl::Status Remove(const Session& session, absl::string_view path) override;
  absl::Status Rename(const Session& session, absl::string_view from,
                      absl::string_view to, bool overwrite) override;
  absl::Status SetStat(const Session& session, absl::string_view path,
                       const Attributes& attributes) override;
  absl::Status ListDir(const Session& session, absl::string_view path,
                       const DirEntrySink& sink) override;
  // Seeks in the ordered entries (no skipping).
  absl::Status ListDirAfter(const Session& session, absl::string_view path,
                            absl::string_view start_after,
                            const DirEntrySink& sink) override;
  absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path, uint64_t offset) override;
  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) override;
  bool AcceptsRandomWrites() const override { return true; }

  absl::Status Symlink(const Session& session, absl::string_view link_path,
                       absl::string_view target) override;
  absl::StatusOr<std::string> ReadLink(const Session& session,
                                       absl::string_view path) override;
  absl::Status Link(const Session& session, absl::string_view existing_path,
                    absl::string_view new_path) override;
  absl::StatusOr<std::string> RealPath(const Session& session,
                                       absl::string_view path) override;
  // Walks the session's subtree (under the lock: fine for a sample).
  absl::StatusOr<UsageInfo> Usage(const Session& session) override;
  // Whole-file digests, computed on first request and kept with the
  // contents they describe; ranges and blocks are UNIMPLEMENTED (the front
  // end hashes those itself).
  absl::StatusOr<std::vector<std::string>> Hash(
      const Session& session, const HashRequest& request) override;
  std::vector<HashAlgorithm> HashAlgorithms() const override;
  absl::StatusOr<StatFsInfo> StatFs(const Session& session,
                                    absl::string_view path) override;
  absl::Status SetStatNoFollow(const Session& session, absl::string_view path,
                               const Attributes& attributes) override;

 private:
  class Writer;

  // Where a path led: the directories walked from the session root to the
  // parent of the last component (`chain`, with their `names`), the last
  // component's `name` ("" for the root itself) and the object there
  // (null when the last component does not exist).
  struct Location {
    std::vector<std::shared_ptr<Inode>> chain;
    std::vector<std::string> names;
    std::string name;
    std::shared_ptr<Inode> node;

    Inode& parent() const { return *chain.back(); }
    bool is_root() const { return name.empty(); }
    // The canonical path, in the session's view.
    std::string Path() const;
  };

  // The session's root directory, created (with its parents) if missing.
  absl::StatusOr<std::shared_ptr<Inode>> SessionRoot(const Session& session)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Walks `path` from the session root, following symlinks in every
  // component, and in the last one too when `follow_last`.
  absl::StatusOr<Location> Resolve(const Session& session,
                                   absl::string_view path, bool follow_last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Resolve() that also requires the object to exist.
  absl::StatusOr<Location> ResolveExisting(const Session& session,
                                           absl::string_view path,
                                           bool follow_last)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // A new object (not yet linked), counted against max_inodes.
  absl::StatusOr<std::shared_ptr<Inode>> NewInode(Inode::Kind kind,
                                                  uint32_t permissions)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Links `node` as `name` in `dir`, keeping nlink counts.
  void Attach(Inode& dir, const std::string& name, std::shared_ptr<Inode> node)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Unlinks `name` from `dir` and returns it. With `moving` the object is
  // about to be attached elsewhere; otherwise it leaves the tree when its
  // last name goes (its bytes and inode are released from the counts).
  std::shared_ptr<Inode> Detach(Inode& dir, const std::string& name,
                                bool moving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Replaces the contents of linked or unlinked `file` with `data`,
  // enforcing capacity for linked files.
  absl::Status Publish(Inode& file, std::shared_ptr<const FileData> data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // SetStat on `node` after validating everything it asks.
  absl::Status ApplyAttributes(Inode& node, const Attributes& attributes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SetStatImpl(const Session& session, absl::string_view path,
                           const Attributes& attributes, bool follow);

  const MemoryBackendOptions options_;
  absl::Mutex mu_;
  const std::shared_ptr<Inode> root_ ABSL_PT_GUARDED_BY(mu_);
  uint64_t used_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t inodes_ ABSL_GUARDED_BY(mu_) = 1;  // the root
};

}  // namespace sftpgate::memory

#endif  // SFTPGATE_SAMPLE_BACKENDS_MEMORY_MEMORY_BACKEND_H_
