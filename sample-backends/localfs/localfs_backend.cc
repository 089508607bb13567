#include "localfs_backend.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errno_status.h"
#include "local_file_reader.h"
#include "local_file_writer.h"
#include "mode_bits.h"
#include "session_tree.h"
#include "sftpgate/attributes.h"
#include "sftpgate/paths.h"
#include "upload_staging.h"

// Evaluates `expr` (an absl::StatusOr); returns its status if not OK, else
// moves its value into `lhs`.
#define LOCALFS_CONCAT_INNER(a, b) a##b
#define LOCALFS_CONCAT(a, b) LOCALFS_CONCAT_INNER(a, b)
#define LOCALFS_ASSIGN_OR_RETURN(lhs, expr) \
  LOCALFS_ASSIGN_OR_RETURN_IMPL(LOCALFS_CONCAT(_statusor_, __LINE__), lhs, expr)
#define LOCALFS_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = *std::move(tmp)

namespace sftpgate::localfs {

struct LocalFsBackend::Request {
  SessionTree tree;
  std::string rel;   // request path relative to the session root
  std::string what;  // "<op> <path>" for messages
};

namespace {

absl::StatusOr<struct stat> LStat(const Target& target,
                                  absl::string_view what) {
  struct stat st;
  if (::fstatat(target.dir.get(), target.name.c_str(), &st,
                AT_SYMLINK_NOFOLLOW) != 0) {
    return StatusFromErrno(errno, what);
  }
  return st;
}

absl::StatusOr<struct stat> FStat(int fd, absl::string_view what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return StatusFromErrno(errno, what);
  return st;
}

absl::Status NotRegular(absl::string_view what) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": not a regular file"));
}

// Changes what `attributes` sets on `target` itself (never through a final
// symlink): size, then owner, then mode (chown clears set-ID bits), then
// times (truncating touches mtime).
absl::Status ApplyAttributes(const Target& target, const Attributes& attributes,
                             const ModePolicy& modes, absl::string_view what) {
  LOCALFS_ASSIGN_OR_RETURN(struct stat st, LStat(target, what));
  if (attributes.has_mode()) {
    absl::Status allowed = modes.Check(attributes.mode(), what);
    if (!allowed.ok()) return allowed;
  }
  if (!modes.allow_chown &&
      ((attributes.has_uid() && attributes.uid() != st.st_uid) ||
       (attributes.has_gid() && attributes.gid() != st.st_gid))) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, ": changing the owner or group is not allowed"));
  }
  const bool is_link = S_ISLNK(st.st_mode);
  if (is_link && (attributes.has_size() || attributes.has_mode())) {
    return absl::UnimplementedError(
        absl::StrCat(what, ": cannot change the size or mode of a symlink"));
  }
  const int fd_dir = target.dir.get();
  const char* name = target.name.c_str();
  if (attributes.has_size()) {
    if (S_ISDIR(st.st_mode)) return StatusFromErrno(EISDIR, what);
    if (!S_ISREG(st.st_mode)) return NotRegular(what);
    if (attributes.size() >
        static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
      return StatusFromErrno(EFBIG, what);
    }
    // O_NONBLOCK: should the name have become a FIFO meanwhile, opening
    // it must not hang.
    LOCALFS_ASSIGN_OR_RETURN(UniqueFd fd,
                             OpenTarget(target, O_WRONLY | O_NONBLOCK, what));
    LOCALFS_ASSIGN_OR_RETURN(struct stat opened, FStat(fd.get(), what));
    if (!S_ISREG(opened.st_mode)) return NotRegular(what);
    if (::ftruncate(fd.get(), static_cast<off_t>(attributes.size())) != 0) {
      return StatusFromErrno(errno, what);
    }
  }
  if (attributes.has_uid() || attributes.has_gid()) {
    const uid_t uid = attributes.has_uid() ? attributes.uid() : -1;
    const gid_t gid = attributes.has_gid() ? attributes.gid() : -1;
    if (::fchownat(fd_dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
      return StatusFromErrno(errno, what);
    }
  }
  if (attributes.has_mode()) {
    // glibc does this through an O_PATH|O_NOFOLLOW descriptor and refuses
    // (EOPNOTSUPP) if the name became a symlink meanwhile.
    if (::fchmodat(fd_dir, name, attributes.mode() & modes.settable(),
                   AT_SYMLINK_NOFOLLOW) != 0) {
      return StatusFromErrno(errno, what);
    }
  }
  if (attributes.has_atime() || attributes.has_mtime()) {
    struct timespec times[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    if (attributes.has_atime()) times[0] = {attributes.atime(), 0};
    if (attributes.has_mtime()) times[1] = {attributes.mtime(), 0};
    if (::utimensat(fd_dir, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
      return StatusFromErrno(errno, what);
    }
  }
  return absl::OkStatus();
}

absl::Status RootRefused(absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(what, ": not allowed on the root"));
}

}  // namespace

absl::StatusOr<LocalFsBackend::Request> LocalFsBackend::Begin(
    const Session& session, absl::string_view op, absl::string_view path,
    Access access) const {
  std::string what = absl::StrCat(op, " ", path);
  if (access == Access::kModify && session.read_only()) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, ": read-only session"));
  }
  LOCALFS_ASSIGN_OR_RETURN(std::string rel, ToRelative(path));
  // An unset root means the whole backend root, as "/" does.
  LOCALFS_ASSIGN_OR_RETURN(
      SessionTree tree,
      root_.OpenSession(session.root().empty() ? "/" : session.root()));
  return Request{std::move(tree), std::move(rel), std::move(what)};
}

absl::StatusOr<Attributes> LocalFsBackend::Stat(const Session& session,
                                                absl::string_view path,
                                                bool follow_symlinks) {
  LOCALFS_ASSIGN_OR_RETURN(
      Request req,
      Begin(session, follow_symlinks ? "stat" : "lstat", path, Access::kRead));
  struct stat st;
  if (follow_symlinks) {
    LOCALFS_ASSIGN_OR_RETURN(UniqueFd fd,
                             req.tree.Open(req.rel, O_PATH, req.what));
    LOCALFS_ASSIGN_OR_RETURN(st, FStat(fd.get(), req.what));
  } else {
    LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
    LOCALFS_ASSIGN_OR_RETURN(st, LStat(target, req.what));
  }
  return AttributesFromStat(st);
}

absl::Status LocalFsBackend::MakeDir(const Session& session,
                                     absl::string_view path,
                                     const Attributes& attributes) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "mkdir", path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  if (target.is_self()) return StatusFromErrno(EEXIST, req.what);
  const mode_t requested =
      PermissionsOr(attributes, kDefaultDirectoryPermissions);
  absl::Status allowed = modes_.Check(requested, req.what);
  if (!allowed.ok()) return allowed;
  // Created private, then given its mode less our umask (the process's
  // own umask is not ours to rely on).
  if (::mkdirat(target.dir.get(), target.name.c_str(), 0700) != 0) {
    return StatusFromErrno(errno, req.what);
  }
  const mode_t mode = requested & ~modes_.umask & modes_.settable();
  if (::fchmodat(target.dir.get(), target.name.c_str(), mode,
                 AT_SYMLINK_NOFOLLOW) != 0) {
    return StatusFromErrno(errno, req.what);
  }
  return absl::OkStatus();
}

absl::Status LocalFsBackend::RemoveDir(const Session& session,
                                       absl::string_view path) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "rmdir", path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  if (target.is_self()) return RootRefused(req.what);
  if (::unlinkat(target.dir.get(), target.name.c_str(), AT_REMOVEDIR) == 0) {
    return absl::OkStatus();
  }
  if (errno == ENOTEMPTY) {
    // Leftovers of crashed uploads must not keep the directory alive.
    UniqueFd dir(OpenAt2(target.dir.get(), target.name,
                         O_PATH | O_DIRECTORY | O_NOFOLLOW,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS));
    if (dir.valid() && RemoveMarkedTemps(dir.get()) > 0 &&
        ::unlinkat(target.dir.get(), target.name.c_str(), AT_REMOVEDIR) == 0) {
      return absl::OkStatus();
    }
    errno = ENOTEMPTY;
  }
  return StatusFromErrno(errno, req.what);
}

absl::Status LocalFsBackend::Remove(const Session& session,
                                    absl::string_view path) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "remove", path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  if (target.is_self()) return StatusFromErrno(EISDIR, req.what);
  if (::unlinkat(target.dir.get(), target.name.c_str(), 0) != 0) {
    return StatusFromErrno(errno, req.what);
  }
  return absl::OkStatus();
}

absl::Status LocalFsBackend::Rename(const Session& session,
                                    absl::string_view from,
                                    absl::string_view to, bool overwrite) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "rename", from, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(std::string to_rel, ToRelative(to));
  absl::StrAppend(&req.what, " -> ", to);
  LOCALFS_ASSIGN_OR_RETURN(Target source, req.tree.Locate(req.rel, req.what));
  LOCALFS_ASSIGN_OR_RETURN(Target dest, req.tree.Locate(to_rel, req.what));
  if (source.is_self() || dest.is_self()) return RootRefused(req.what);
  if (req.rel == to_rel) {
    // rename(2) onto itself: succeeds when the path exists, changes nothing.
    return LStat(source, req.what).status();
  }
  if (::renameat2(source.dir.get(), source.name.c_str(), dest.dir.get(),
                  dest.name.c_str(), overwrite ? 0 : RENAME_NOREPLACE) != 0) {
    return StatusFromErrno(errno, req.what);
  }
  return absl::OkStatus();
}

absl::Status LocalFsBackend::SetStat(const Session& session,
                                     absl::string_view path,
                                     const Attributes& attributes) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "setstat", path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(Target target,
                           req.tree.LocateFollow(req.rel, req.what));
  return ApplyAttributes(target, attributes, modes_, req.what);
}

absl::Status LocalFsBackend::SetStatNoFollow(const Session& session,
                                             absl::string_view path,
                                             const Attributes& attributes) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "lsetstat", path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  return ApplyAttributes(target, attributes, modes_, req.what);
}

absl::Status LocalFsBackend::ListDir(const Session& session,
                                     absl::string_view path,
                                     const DirEntrySink& sink) {
  return LocalFsBackend::ListDirAfter(session, path, "", sink);
}

absl::Status LocalFsBackend::ListDirAfter(const Session& session,
                                          absl::string_view path,
                                          absl::string_view start_after,
                                          const DirEntrySink& sink) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "list", path, Access::kRead));
  LOCALFS_ASSIGN_OR_RETURN(
      UniqueFd fd, req.tree.Open(req.rel, O_RDONLY | O_DIRECTORY, req.what));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd.get()), ::closedir);
  if (dir == nullptr) return StatusFromErrno(errno, req.what);
  fd.release();  // the DIR owns it now
  // The names first (only those after start_after), sorted: the contract
  // lists in name order. The attributes are read as each entry goes out.
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const struct dirent* ent = ::readdir(dir.get());
    if (ent == nullptr) {
      if (errno != 0) return StatusFromErrno(errno, req.what);
      break;
    }
    const absl::string_view name = ent->d_name;
    if (name == "." || name == ".." || name <= start_after) continue;
    names.emplace_back(name);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (IsMarkedTemp(::dirfd(dir.get()), name)) continue;
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) !=
        0) {
      if (errno == ENOENT) continue;  // removed while listing
      return StatusFromErrno(errno, req.what);
    }
    DirEntry entry;
    entry.set_name(name);
    *entry.mutable_attributes() = AttributesFromStat(st);
    absl::Status status = sink(std::move(entry));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FileReader>> LocalFsBackend::OpenRead(
    const Session& session, absl::string_view path, uint64_t offset) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "read", path, Access::kRead));
  // O_NONBLOCK: opening a FIFO must not hang; only regular files go on.
  LOCALFS_ASSIGN_OR_RETURN(
      UniqueFd fd, req.tree.Open(req.rel, O_RDONLY | O_NONBLOCK, req.what));
  LOCALFS_ASSIGN_OR_RETURN(struct stat st, FStat(fd.get(), req.what));
  if (S_ISDIR(st.st_mode)) return StatusFromErrno(EISDIR, req.what);
  if (!S_ISREG(st.st_mode)) return NotRegular(req.what);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::make_unique<LocalFileReader>(std::move(fd), offset,
                                           std::move(req.what));
}

absl::StatusOr<std::unique_ptr<FileWriter>> LocalFsBackend::OpenWrite(
    const Session& session, const WriteHeader& header) {
  LOCALFS_ASSIGN_OR_RETURN(
      Request req, Begin(session, "write", header.path(), Access::kModify));
  // As open(2) with O_EXCL, an exclusive create does not follow a final
  // symlink: any link there, even a dangling one, means "exists".
  const bool exclusive = header.flags() & WriteHeader::FLAG_EXCLUSIVE;
  LOCALFS_ASSIGN_OR_RETURN(
      Target target, exclusive ? req.tree.Locate(req.rel, req.what)
                               : req.tree.LocateFollow(req.rel, req.what));
  if (target.is_self()) return StatusFromErrno(EISDIR, req.what);
  std::optional<struct stat> existing;
  absl::StatusOr<struct stat> st = LStat(target, req.what);
  if (st.ok()) {
    if (exclusive) return StatusFromErrno(EEXIST, req.what);
    if (S_ISDIR(st->st_mode)) return StatusFromErrno(EISDIR, req.what);
    if (!S_ISREG(st->st_mode)) return NotRegular(req.what);
    // The upload renames a new file over this one, which only the
    // directory's permissions govern; writing in place, as open(2) would,
    // also needs the file's. Refuse what open(2) would refuse (as the
    // backend's effective user: mode, ACLs, a read-only mount), before any
    // data flows.
    if (::faccessat(target.dir.get(), target.name.c_str(), W_OK,
                    AT_EACCESS | AT_SYMLINK_NOFOLLOW) != 0) {
      return StatusFromErrno(errno, req.what);
    }
    existing = *st;
  } else if (!absl::IsNotFound(st.status()) ||
             !(header.flags() & WriteHeader::FLAG_CREATE)) {
    return st.status();
  }
  const mode_t requested =
      PermissionsOr(header.attributes(), kDefaultFilePermissions);
  if (!existing.has_value()) {
    absl::Status allowed = modes_.Check(requested, req.what);
    if (!allowed.ok()) return allowed;
  }
  LOCALFS_ASSIGN_OR_RETURN(
      std::unique_ptr<LocalFileWriter> writer,
      LocalFileWriter::Start(std::move(target), header, existing,
                             requested & ~modes_.umask, modes_.settable(),
                             std::move(req.what)));
  return writer;
}

absl::Status LocalFsBackend::Symlink(const Session& session,
                                     absl::string_view link_path,
                                     absl::string_view target) {
  LOCALFS_ASSIGN_OR_RETURN(
      Request req, Begin(session, "symlink", link_path, Access::kModify));
  if (target.empty() || absl::StrContains(target, absl::string_view("\0", 1))) {
    return absl::InvalidArgumentError(
        absl::StrCat(req.what, ": target is empty or holds NUL"));
  }
  LOCALFS_ASSIGN_OR_RETURN(Target at, req.tree.Locate(req.rel, req.what));
  if (at.is_self()) return StatusFromErrno(EEXIST, req.what);
  // Stored verbatim: the target is only ever interpreted by SessionTree,
  // beneath the session root.
  if (::symlinkat(std::string(target).c_str(), at.dir.get(), at.name.c_str()) !=
      0) {
    return StatusFromErrno(errno, req.what);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalFsBackend::ReadLink(const Session& session,
                                                     absl::string_view path) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "readlink", path, Access::kRead));
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  if (target.is_self()) return StatusFromErrno(EINVAL, req.what);
  return ReadLinkAt(target.dir.get(), target.name, req.what);
}

absl::Status LocalFsBackend::Link(const Session& session,
                                  absl::string_view existing_path,
                                  absl::string_view new_path) {
  LOCALFS_ASSIGN_OR_RETURN(
      Request req, Begin(session, "link", existing_path, Access::kModify));
  LOCALFS_ASSIGN_OR_RETURN(std::string new_rel, ToRelative(new_path));
  absl::StrAppend(&req.what, " -> ", new_path);
  LOCALFS_ASSIGN_OR_RETURN(Target existing, req.tree.Locate(req.rel, req.what));
  LOCALFS_ASSIGN_OR_RETURN(Target added, req.tree.Locate(new_rel, req.what));
  LOCALFS_ASSIGN_OR_RETURN(struct stat st, LStat(existing, req.what));
  if (S_ISDIR(st.st_mode)) return StatusFromErrno(EISDIR, req.what);
  if (added.is_self()) return StatusFromErrno(EEXIST, req.what);
  // No AT_SYMLINK_FOLLOW: a symlink is linked as itself, as link(2) does.
  if (::linkat(existing.dir.get(), existing.name.c_str(), added.dir.get(),
               added.name.c_str(), 0) != 0) {
    return StatusFromErrno(errno, req.what);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> LocalFsBackend::RealPath(const Session& session,
                                                     absl::string_view path) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "realpath", path, Access::kRead));
  absl::StatusOr<UniqueFd> fd = req.tree.Open(req.rel, O_PATH, req.what);
  if (fd.ok()) return req.tree.ViewPathOf(fd->get(), req.what);
  if (!absl::IsNotFound(fd.status())) return fd.status();
  // The last component does not exist: resolve its parent, keep the name.
  LOCALFS_ASSIGN_OR_RETURN(Target target, req.tree.Locate(req.rel, req.what));
  LOCALFS_ASSIGN_OR_RETURN(std::string parent,
                           req.tree.ViewPathOf(target.dir.get(), req.what));
  return JoinPath(parent, target.name);
}

absl::StatusOr<UsageInfo> LocalFsBackend::Usage(const Session& session) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "usage", "/", Access::kRead));
  LOCALFS_ASSIGN_OR_RETURN(
      UniqueFd top, req.tree.Open(req.rel, O_RDONLY | O_DIRECTORY, req.what));
  UsageInfo usage;
  std::vector<UniqueFd> pending;
  pending.push_back(std::move(top));
  while (!pending.empty()) {
    UniqueFd dir = std::move(pending.back());
    pending.pop_back();
    DIR* stream = ::fdopendir(dir.get());
    if (stream == nullptr) return StatusFromErrno(errno, req.what);
    dir.release();  // the DIR* owns it now
    while (const dirent* entry = ::readdir(stream)) {
      absl::string_view name = entry->d_name;
      if (name == "." || name == ".." || IsMarkedTemp(::dirfd(stream), name)) {
        continue;
      }
      struct stat st;
      if (::fstatat(::dirfd(stream), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) !=
          0) {
        continue;  // removed meanwhile
      }
      if (S_ISREG(st.st_mode)) {
        usage.set_bytes(usage.bytes() + static_cast<uint64_t>(st.st_size));
        usage.set_files(usage.files() + 1);
      } else if (S_ISDIR(st.st_mode)) {
        UniqueFd child(
            ::openat(::dirfd(stream), entry->d_name,
                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (child.valid()) pending.push_back(std::move(child));
      }
    }
    ::closedir(stream);
  }
  return usage;
}

absl::StatusOr<StatFsInfo> LocalFsBackend::StatFs(const Session& session,
                                                  absl::string_view path) {
  LOCALFS_ASSIGN_OR_RETURN(Request req,
                           Begin(session, "statfs", path, Access::kRead));
  LOCALFS_ASSIGN_OR_RETURN(UniqueFd fd,
                           req.tree.Open(req.rel, O_PATH, req.what));
  struct statvfs sv;
  if (::fstatvfs(fd.get(), &sv) != 0) return StatusFromErrno(errno, req.what);
  StatFsInfo info;
  info.set_block_size(sv.f_bsize);
  info.set_fragment_size(sv.f_frsize);
  info.set_blocks(sv.f_blocks);
  info.set_blocks_free(sv.f_bfree);
  info.set_blocks_available(sv.f_bavail);
  info.set_files(sv.f_files);
  info.set_files_free(sv.f_ffree);
  info.set_files_available(sv.f_favail);
  info.set_filesystem_id(sv.f_fsid);
  info.set_flags(sv.f_flag & (ST_RDONLY | ST_NOSUID));
  info.set_max_name_length(sv.f_namemax);
  return info;
}

}  // namespace sftpgate::localfs
