#include "memory_backend.h"

#include <openssl/evp.h>

#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "sftpgate/paths.h"

namespace sftpgate::memory {
namespace {

// Most symlinks followed while resolving one path (as Linux's ELOOP).
constexpr int kMaxSymlinks = 40;
constexpr size_t kMaxNameLength = 255;
// Entries copied out per lock hold while listing.
constexpr size_t kListBatch = 256;
// StatFs figures.
constexpr uint64_t kBlockSize = 4096;
constexpr uint64_t kFilesystemId = 0x6d656d6f7279;  // "memory"

int64_t Now() { return absl::ToUnixSeconds(absl::Now()); }

absl::Status CheckWritable(const Session& session) {
  if (session.read_only()) {
    return absl::PermissionDeniedError("read-only session");
  }
  return absl::OkStatus();
}

absl::Status CheckNewName(absl::string_view name) {
  if (name.size() > kMaxNameLength) {
    return absl::InvalidArgumentError("file name too long");
  }
  return absl::OkStatus();
}

absl::Status NoSuchFile() {
  return absl::NotFoundError("no such file or directory");
}

// Streams one immutable snapshot; never takes the backend's lock.
// Thread safety: one thread at a time (FileReader contract).
class MemoryReader : public FileReader {
 public:
  MemoryReader(std::shared_ptr<const FileData> data, uint64_t offset)
      : data_(std::move(data)), offset_(offset) {}

  absl::Status Read(size_t max_bytes, std::string* out) override {
    data_->Read(offset_, max_bytes, out);
    offset_ += out->size();
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<const FileData> data_;
  uint64_t offset_;
};

}  // namespace

// Stages an upload in a private FileDataBuilder; Commit publishes it under
// the backend's lock. Either `file_` (an existing file) or `parent_` and
// `name_` (a file to create at commit) are set.
// Thread safety: one thread at a time (FileWriter contract); Commit takes
// the backend's mutex.
class MemoryBackend::Writer : public FileWriter {
 public:
  Writer(MemoryBackend* backend, std::shared_ptr<Inode> file,
         std::shared_ptr<Inode> parent, std::string name, uint32_t permissions,
         bool exclusive, bool append, FileDataBuilder staged)
      : backend_(backend),
        file_(std::move(file)),
        parent_(std::move(parent)),
        name_(std::move(name)),
        permissions_(permissions),
        exclusive_(exclusive),
        append_(append),
        staged_(std::move(staged)) {}

  absl::Status Write(uint64_t offset, absl::string_view data) override {
    if (append_) offset = staged_.size();
    const uint64_t capacity = backend_->options_.capacity;
    if (data.size() > capacity || offset > capacity - data.size()) {
      return absl::ResourceExhaustedError(
          "file would exceed the backend's capacity");
    }
    staged_.Write(offset, data);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Commit() override {
    std::shared_ptr<const FileData> data = staged_.Build();
    absl::MutexLock lock(&backend_->mu_);
    std::shared_ptr<Inode> file = file_;
    if (file == nullptr) {
      // The file is created now, so an aborted upload never showed it.
      if (parent_->nlink == 0) return NoSuchFile();  // directory removed
      auto it = parent_->entries.find(name_);
      if (it != parent_->entries.end()) {
        if (exclusive_) return absl::AlreadyExistsError("file exists");
        if (!it->second->is_file()) {
          return absl::FailedPreconditionError("not a regular file");
        }
        file = it->second;
      } else {
        absl::StatusOr<std::shared_ptr<Inode>> created =
            backend_->NewInode(Inode::Kind::kFile, permissions_);
        if (!created.ok()) return created.status();
        backend_->Attach(*parent_, name_, *created);
        absl::Status published = backend_->Publish(**created, data);
        if (!published.ok()) {
          backend_->Detach(*parent_, name_, /*moving=*/false);
          return published;
        }
        return data->size();
      }
    }
    absl::Status published = backend_->Publish(*file, data);
    if (!published.ok()) return published;
    return data->size();
  }

  void Abort() override { staged_ = FileDataBuilder(); }

 private:
  MemoryBackend* const backend_;
  const std::shared_ptr<Inode> file_;
  const std::shared_ptr<Inode> parent_;
  const std::string name_;
  const uint32_t permissions_;
  const bool exclusive_;
  const bool append_;
  FileDataBuilder staged_;
};

std::string MemoryBackend::Location::Path() const {
  return JoinPath(absl::StrCat("/", absl::StrJoin(names, "/")), name);
}

MemoryBackend::MemoryBackend(const MemoryBackendOptions& options)
    : options_(options),
      root_(std::make_shared<Inode>(Inode::Kind::kDirectory,
                                    kDefaultDirectoryPermissions, options.uid,
                                    options.gid, Now())) {}

MemoryBackend::~MemoryBackend() = default;

absl::StatusOr<std::shared_ptr<Inode>> MemoryBackend::SessionRoot(
    const Session& session) {
  // Created on first use so that per-user roots need no provisioning.
  // Symlinks are not followed here: the root is the operator's choice.
  std::shared_ptr<Inode> dir = root_;
  for (const std::string& part : PathComponents(session.root())) {
    if (!IsValidName(part)) {
      return absl::InvalidArgumentError("session root is not normalized");
    }
    auto it = dir->entries.find(part);
    if (it == dir->entries.end()) {
      absl::StatusOr<std::shared_ptr<Inode>> created =
          NewInode(Inode::Kind::kDirectory, kDefaultDirectoryPermissions);
      if (!created.ok()) return created.status();
      Attach(*dir, part, *created);
      dir = *created;
    } else if (it->second->is_directory()) {
      dir = it->second;
    } else {
      return absl::FailedPreconditionError("session root is not a directory");
    }
  }
  return dir;
}

absl::StatusOr<MemoryBackend::Location> MemoryBackend::Resolve(
    const Session& session, absl::string_view path, bool follow_last) {
  absl::StatusOr<std::shared_ptr<Inode>> root = SessionRoot(session);
  if (!root.ok()) return root.status();
  Location loc;
  loc.chain.push_back(*root);
  std::deque<std::string> pending =
      absl::StrSplit(path, '/', absl::SkipEmpty());
  int links = 0;
  while (!pending.empty()) {
    std::string part = std::move(pending.front());
    pending.pop_front();
    // "." and ".." only come from symlink targets: request paths are
    // normalized.
    if (part == ".") continue;
    if (part == "..") {
      if (loc.chain.size() == 1) {
        return absl::PermissionDeniedError("path leaves the session root");
      }
      loc.chain.pop_back();
      loc.names.pop_back();
      continue;
    }
    const Inode& dir = *loc.chain.back();
    const bool last = pending.empty();
    auto it = dir.entries.find(part);
    if (it == dir.entries.end()) {
      if (!last) return NoSuchFile();
      loc.name = std::move(part);
      return loc;
    }
    std::shared_ptr<Inode> child = it->second;
    if (child->is_symlink() && (!last || follow_last)) {
      if (++links > kMaxSymlinks) {
        return absl::FailedPreconditionError(
            "too many levels of symbolic links");
      }
      std::vector<std::string> target =
          absl::StrSplit(child->target, '/', absl::SkipEmpty());
      pending.insert(pending.begin(), target.begin(), target.end());
      if (absl::StartsWith(child->target, "/")) {  // from the session root
        loc.chain.resize(1);
        loc.names.clear();
      }
      continue;
    }
    if (last) {
      loc.name = std::move(part);
      loc.node = std::move(child);
      return loc;
    }
    if (!child->is_directory()) {
      return absl::FailedPreconditionError("not a directory");
    }
    loc.chain.push_back(std::move(child));
    loc.names.push_back(std::move(part));
  }
  // The walk ended on a directory of the chain: the path was "/", or a
  // symlink target ended in "/", "." or "..". That directory is the result.
  loc.node = loc.chain.back();
  if (loc.chain.size() > 1) {
    loc.chain.pop_back();
    loc.name = std::move(loc.names.back());
    loc.names.pop_back();
  }
  return loc;
}

absl::StatusOr<MemoryBackend::Location> MemoryBackend::ResolveExisting(
    const Session& session, absl::string_view path, bool follow_last) {
  absl::StatusOr<Location> loc = Resolve(session, path, follow_last);
  if (loc.ok() && loc->node == nullptr) return NoSuchFile();
  return loc;
}

absl::StatusOr<std::shared_ptr<Inode>> MemoryBackend::NewInode(
    Inode::Kind kind, uint32_t permissions) {
  if (inodes_ >= options_.max_inodes) {
    return absl::ResourceExhaustedError("too many files");
  }
  ++inodes_;
  auto node = std::make_shared<Inode>(kind, permissions, options_.uid,
                                      options_.gid, Now());
  if (kind == Inode::Kind::kFile) node->data = std::make_shared<FileData>();
  return node;
}

void MemoryBackend::Attach(Inode& dir, const std::string& name,
                           std::shared_ptr<Inode> node) {
  if (node->is_directory()) {
    ++dir.nlink;  // the subdirectory's ".."
  } else {
    ++node->nlink;
  }
  dir.entries[name] = std::move(node);
  dir.mtime = Now();
}

std::shared_ptr<Inode> MemoryBackend::Detach(Inode& dir,
                                             const std::string& name,
                                             bool moving) {
  auto it = dir.entries.find(name);
  std::shared_ptr<Inode> node = std::move(it->second);
  dir.entries.erase(it);
  dir.mtime = Now();
  if (node->is_directory()) {
    --dir.nlink;
    if (!moving) {
      node->nlink = 0;
      --inodes_;
    }
  } else if (--node->nlink == 0 && !moving) {
    --inodes_;
    if (node->is_file()) used_bytes_ -= node->data->size();
  }
  return node;
}

absl::Status MemoryBackend::Publish(Inode& file,
                                    std::shared_ptr<const FileData> data) {
  if (file.nlink > 0) {  // only linked files count against capacity
    const uint64_t used = used_bytes_ - file.data->size() + data->size();
    if (used > options_.capacity) {
      return absl::ResourceExhaustedError("memory backend is full");
    }
    used_bytes_ = used;
  }
  file.data = std::move(data);
  file.mtime = Now();
  return absl::OkStatus();
}

absl::Status MemoryBackend::ApplyAttributes(Inode& node,
                                            const Attributes& attributes) {
  // The size is the only change that can fail: do it first, so a failure
  // changes nothing.
  if (attributes.has_size()) {
    if (node.is_directory()) {
      return absl::FailedPreconditionError("is a directory");
    }
    if (node.is_symlink()) {
      return absl::InvalidArgumentError("cannot resize a symlink");
    }
    if (attributes.size() > options_.capacity) {
      return absl::ResourceExhaustedError(
          "file would exceed the backend's capacity");
    }
    FileDataBuilder resized(*node.data);
    resized.Resize(attributes.size());
    absl::Status published = Publish(node, resized.Build());
    if (!published.ok()) return published;
  }
  if (attributes.has_mode()) {
    node.permissions = attributes.mode() & kModePermissionMask;
  }
  if (attributes.has_uid()) node.uid = attributes.uid();
  if (attributes.has_gid()) node.gid = attributes.gid();
  if (attributes.has_atime()) node.atime = attributes.atime();
  if (attributes.has_mtime()) node.mtime = attributes.mtime();
  return absl::OkStatus();
}

absl::StatusOr<Attributes> MemoryBackend::Stat(const Session& session,
                                               absl::string_view path,
                                               bool follow_symlinks) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc =
      ResolveExisting(session, path, follow_symlinks);
  if (!loc.ok()) return loc.status();
  return loc->node->ToAttributes();
}

absl::Status MemoryBackend::MakeDir(const Session& session,
                                    absl::string_view path,
                                    const Attributes& attributes) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = Resolve(session, path, false);
  if (!loc.ok()) return loc.status();
  if (loc->node != nullptr) return absl::AlreadyExistsError("file exists");
  if (absl::Status s = CheckNewName(loc->name); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<Inode>> dir =
      NewInode(Inode::Kind::kDirectory,
               PermissionsOr(attributes, kDefaultDirectoryPermissions));
  if (!dir.ok()) return dir.status();
  Attach(loc->parent(), loc->name, *dir);
  return absl::OkStatus();
}

absl::Status MemoryBackend::RemoveDir(const Session& session,
                                      absl::string_view path) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, false);
  if (!loc.ok()) return loc.status();
  if (loc->is_root()) {
    return absl::PermissionDeniedError("cannot remove the session root");
  }
  if (!loc->node->is_directory()) {
    return absl::FailedPreconditionError("not a directory");
  }
  if (!loc->node->entries.empty()) {
    return absl::FailedPreconditionError("directory not empty");
  }
  Detach(loc->parent(), loc->name, false);
  return absl::OkStatus();
}

absl::Status MemoryBackend::Remove(const Session& session,
                                   absl::string_view path) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, false);
  if (!loc.ok()) return loc.status();
  if (loc->node->is_directory()) {
    return absl::FailedPreconditionError("is a directory");
  }
  Detach(loc->parent(), loc->name, false);
  return absl::OkStatus();
}

absl::Status MemoryBackend::Rename(const Session& session,
                                   absl::string_view from_path,
                                   absl::string_view to_path, bool overwrite) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> from = ResolveExisting(session, from_path, false);
  if (!from.ok()) return from.status();
  absl::StatusOr<Location> to = Resolve(session, to_path, false);
  if (!to.ok()) return to.status();
  if (from->is_root() || to->is_root()) {
    return absl::PermissionDeniedError("cannot rename the session root");
  }
  if (&from->parent() == &to->parent() && from->name == to->name) {
    return absl::OkStatus();
  }
  if (from->node->is_directory()) {
    for (const std::shared_ptr<Inode>& dir : to->chain) {
      if (dir == from->node) {
        return absl::InvalidArgumentError(
            "cannot move a directory beneath itself");
      }
    }
  }
  if (absl::Status s = CheckNewName(to->name); !s.ok()) return s;
  if (to->node != nullptr) {
    if (!overwrite) return absl::AlreadyExistsError("target exists");
    // Two names of one file: rename(2) does nothing.
    if (to->node == from->node) return absl::OkStatus();
    if (from->node->is_directory()) {
      if (!to->node->is_directory()) {
        return absl::FailedPreconditionError("target is not a directory");
      }
      if (!to->node->entries.empty()) {
        return absl::FailedPreconditionError("target directory not empty");
      }
    } else if (to->node->is_directory()) {
      return absl::FailedPreconditionError("target is a directory");
    }
    Detach(to->parent(), to->name, false);
  }
  std::shared_ptr<Inode> node = Detach(from->parent(), from->name, true);
  Attach(to->parent(), to->name, std::move(node));
  return absl::OkStatus();
}

absl::Status MemoryBackend::SetStatImpl(const Session& session,
                                        absl::string_view path,
                                        const Attributes& attributes,
                                        bool follow) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, follow);
  if (!loc.ok()) return loc.status();
  return ApplyAttributes(*loc->node, attributes);
}

absl::Status MemoryBackend::SetStat(const Session& session,
                                    absl::string_view path,
                                    const Attributes& attributes) {
  return SetStatImpl(session, path, attributes, true);
}

absl::Status MemoryBackend::SetStatNoFollow(const Session& session,
                                            absl::string_view path,
                                            const Attributes& attributes) {
  return SetStatImpl(session, path, attributes, false);
}

absl::Status MemoryBackend::ListDir(const Session& session,
                                    absl::string_view path,
                                    const DirEntrySink& sink) {
  return MemoryBackend::ListDirAfter(session, path, "", sink);
}

absl::Status MemoryBackend::ListDirAfter(const Session& session,
                                         absl::string_view path,
                                         absl::string_view start_after,
                                         const DirEntrySink& sink) {
  std::shared_ptr<Inode> dir;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Location> loc = ResolveExisting(session, path, true);
    if (!loc.ok()) return loc.status();
    if (!loc->node->is_directory()) {
      return absl::FailedPreconditionError("not a directory");
    }
    dir = loc->node;
  }
  // Copy entries out a batch at a time and hand them to the sink without
  // the lock (the sink may wait for a slow client). Resuming after the
  // last name keeps the listing consistent under concurrent changes: every
  // entry present throughout is listed exactly once.
  std::string after(start_after);
  bool started = !after.empty();
  while (true) {
    std::vector<DirEntry> batch;
    {
      absl::MutexLock lock(&mu_);
      auto it =
          started ? dir->entries.upper_bound(after) : dir->entries.begin();
      for (; it != dir->entries.end() && batch.size() < kListBatch; ++it) {
        DirEntry& entry = batch.emplace_back();
        entry.set_name(it->first);
        *entry.mutable_attributes() = it->second->ToAttributes();
      }
    }
    if (batch.empty()) return absl::OkStatus();
    after = batch.back().name();
    started = true;
    for (DirEntry& entry : batch) {
      absl::Status status = sink(std::move(entry));
      if (!status.ok()) return status;
    }
  }
}

absl::StatusOr<std::unique_ptr<FileReader>> MemoryBackend::OpenRead(
    const Session& session, absl::string_view path, uint64_t offset) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, true);
  if (!loc.ok()) return loc.status();
  if (loc->node->is_directory()) {
    return absl::FailedPreconditionError("is a directory");
  }
  return std::make_unique<MemoryReader>(loc->node->data, offset);
}

absl::StatusOr<std::unique_ptr<FileWriter>> MemoryBackend::OpenWrite(
    const Session& session, const WriteHeader& header) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  const uint32_t flags = header.flags();
  const bool create = flags & v1::WriteHeader::FLAG_CREATE;
  const bool truncate = flags & v1::WriteHeader::FLAG_TRUNCATE;
  const bool exclusive = flags & v1::WriteHeader::FLAG_EXCLUSIVE;
  const bool append = flags & v1::WriteHeader::FLAG_APPEND;
  absl::MutexLock lock(&mu_);
  // As with O_CREAT|O_EXCL, an exclusive create fails on any existing
  // name, a symlink (even dangling) included, so do not follow it.
  absl::StatusOr<Location> loc = Resolve(session, header.path(), !exclusive);
  if (!loc.ok()) return loc.status();
  if (loc->node != nullptr) {
    if (exclusive) return absl::AlreadyExistsError("file exists");
    if (loc->node->is_directory()) {
      return absl::FailedPreconditionError("is a directory");
    }
    FileDataBuilder staged =
        truncate ? FileDataBuilder() : FileDataBuilder(*loc->node->data);
    return std::make_unique<Writer>(this, loc->node, nullptr, "", 0, false,
                                    append, std::move(staged));
  }
  if (!create) return NoSuchFile();
  if (absl::Status s = CheckNewName(loc->name); !s.ok()) return s;
  return std::make_unique<Writer>(
      this, nullptr, loc->chain.back(), loc->name,
      PermissionsOr(header.attributes(), kDefaultFilePermissions), exclusive,
      append, FileDataBuilder());
}

absl::Status MemoryBackend::Symlink(const Session& session,
                                    absl::string_view link_path,
                                    absl::string_view target) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = Resolve(session, link_path, false);
  if (!loc.ok()) return loc.status();
  if (loc->node != nullptr) return absl::AlreadyExistsError("file exists");
  if (absl::Status s = CheckNewName(loc->name); !s.ok()) return s;
  absl::StatusOr<std::shared_ptr<Inode>> link =
      NewInode(Inode::Kind::kSymlink, 0777);
  if (!link.ok()) return link.status();
  (*link)->target = std::string(target);
  Attach(loc->parent(), loc->name, *link);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryBackend::ReadLink(const Session& session,
                                                    absl::string_view path) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, false);
  if (!loc.ok()) return loc.status();
  if (!loc->node->is_symlink()) {
    return absl::InvalidArgumentError("not a symbolic link");
  }
  return loc->node->target;
}

absl::Status MemoryBackend::Link(const Session& session,
                                 absl::string_view existing_path,
                                 absl::string_view new_path) {
  if (absl::Status s = CheckWritable(session); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  // Like link(2) on Linux, a symlink is linked itself, not followed.
  absl::StatusOr<Location> existing =
      ResolveExisting(session, existing_path, false);
  if (!existing.ok()) return existing.status();
  if (existing->node->is_directory()) {
    return absl::FailedPreconditionError("cannot hard-link a directory");
  }
  absl::StatusOr<Location> dest = Resolve(session, new_path, false);
  if (!dest.ok()) return dest.status();
  if (dest->node != nullptr) return absl::AlreadyExistsError("file exists");
  if (absl::Status s = CheckNewName(dest->name); !s.ok()) return s;
  Attach(dest->parent(), dest->name, existing->node);
  return absl::OkStatus();
}

absl::StatusOr<std::string> MemoryBackend::RealPath(const Session& session,
                                                    absl::string_view path) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = Resolve(session, path, true);
  if (!loc.ok()) return loc.status();
  return loc->Path();
}

absl::StatusOr<UsageInfo> MemoryBackend::Usage(const Session& session) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::shared_ptr<Inode>> root = SessionRoot(session);
  if (!root.ok()) return root.status();
  UsageInfo usage;
  std::vector<const Inode*> pending = {root->get()};
  while (!pending.empty()) {
    const Inode* dir = pending.back();
    pending.pop_back();
    for (const auto& [name, child] : dir->entries) {
      if (child->is_directory()) {
        pending.push_back(child.get());
      } else if (child->is_file()) {
        usage.set_bytes(usage.bytes() + child->data->size());
        usage.set_files(usage.files() + 1);
      }
    }
  }
  return usage;
}

absl::StatusOr<StatFsInfo> MemoryBackend::StatFs(const Session& session,
                                                 absl::string_view path) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Location> loc = ResolveExisting(session, path, true);
  if (!loc.ok()) return loc.status();
  const uint64_t blocks = options_.capacity / kBlockSize;
  const uint64_t used_blocks = (used_bytes_ + kBlockSize - 1) / kBlockSize;
  const uint64_t free_blocks = blocks > used_blocks ? blocks - used_blocks : 0;
  const uint64_t free_files =
      options_.max_inodes > inodes_ ? options_.max_inodes - inodes_ : 0;
  StatFsInfo info;
  info.set_block_size(kBlockSize);
  info.set_fragment_size(kBlockSize);
  info.set_blocks(blocks);
  info.set_blocks_free(free_blocks);
  info.set_blocks_available(free_blocks);
  info.set_files(options_.max_inodes);
  info.set_files_free(free_files);
  info.set_files_available(free_files);
  info.set_filesystem_id(kFilesystemId);
  info.set_flags(session.read_only() ? 1 : 0);
  info.set_max_name_length(kMaxNameLength);
  return info;
}

// ---- Hash: whole-file digests, kept with the contents they describe ----

namespace {

const EVP_MD* DigestOf(v1::HashAlgorithm algorithm) {
  switch (algorithm) {
    case v1::HASH_MD5:
      return EVP_md5();
    case v1::HASH_SHA1:
      return EVP_sha1();
    case v1::HASH_SHA256:
      return EVP_sha256();
    case v1::HASH_SHA512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// The digest of all of `data` (an immutable snapshot: no lock needed).
std::string ComputeDigest(const FileData& data, const EVP_MD* md) {
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  std::string chunk;
  for (uint64_t offset = 0; offset < data.size(); offset += chunk.size()) {
    data.Read(offset, kChunk, &chunk);
    if (chunk.empty()) break;
    EVP_DigestUpdate(ctx.get(), chunk.data(), chunk.size());
  }
  std::string digest(EVP_MD_size(md), '\0');
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(digest.data()),
                     &length);
  digest.resize(length);
  return digest;
}

}  // namespace

std::vector<HashAlgorithm> MemoryBackend::HashAlgorithms() const {
  return {v1::HASH_MD5, v1::HASH_SHA1, v1::HASH_SHA256, v1::HASH_SHA512};
}

absl::StatusOr<std::vector<std::string>> MemoryBackend::Hash(
    const Session& session, const HashRequest& request) {
  const EVP_MD* md = DigestOf(request.algorithm());
  if (md == nullptr) return absl::UnimplementedError("algorithm not served");
  std::shared_ptr<Inode> node;
  std::shared_ptr<const FileData> data;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<Location> loc =
        ResolveExisting(session, request.path(), true);
    if (!loc.ok()) return loc.status();
    if (!loc->node->is_file()) {
      return absl::FailedPreconditionError("not a regular file");
    }
    node = loc->node;
    data = node->data;
    const uint64_t size = data->size();
    // Only digests of whole files are kept: the front end hashes ranges
    // and blocks itself.
    const bool whole = request.offset() == 0 &&
                       (request.length() == 0 || request.length() >= size) &&
                       (request.block_size() == 0 ||
                        (size > 0 && request.block_size() >= size));
    if (!whole) {
      return absl::UnimplementedError("only whole-file digests are kept");
    }
    if (node->digests_of == data) {
      auto it = node->digests.find(request.algorithm());
      if (it != node->digests.end()) return std::vector{it->second};
    }
  }
  // First use for these contents: computed outside the lock, kept unless
  // the file changed meanwhile.
  std::string digest = ComputeDigest(*data, md);
  absl::MutexLock lock(&mu_);
  if (node->data == data) {
    if (node->digests_of != data) {
      node->digests.clear();
      node->digests_of = data;
    }
    node->digests[request.algorithm()] = digest;
  }
  return std::vector{std::move(digest)};
}

}  // namespace sftpgate::memory
