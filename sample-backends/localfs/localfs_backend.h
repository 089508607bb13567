// LocalFsBackend: serves a directory on disk, each session confined beneath
// backend root + Session.root (openat2 RESOLVE_BENEATH lookups; symlinks
// followed beneath that root, absolute ones from it; see session_tree.h).
// Uploads are written to an anonymous temporary file and renamed into place
// on commit (local_file_writer.h, upload_staging.h).
//
// Semantics beyond backend.h:
// - A final symlink is followed by Stat(follow), SetStat, ListDir,
//   OpenRead, OpenWrite, RealPath and StatFs; never by Remove, Rename,
//   Link, ReadLink or SetStatNoFollow.
// - Created files and directories get the requested mode less the umask;
//   setuid/setgid/sticky bits and owner changes are refused unless
//   enabled (ModePolicy, mode_bits.h).
// - SetStatNoFollow cannot change a symlink's mode or size (Linux has no
//   lchmod): UNIMPLEMENTED; its owner and times can be changed.
// - Marked temporary files (upload_staging.h: leftovers of a crash) are
//   left out of listings and removed by RemoveDir; a user's own file with
//   a name like theirs is listed.
// - A Session.read_only session gets PERMISSION_DENIED for every change.
//
// Thread safety: all methods may be called concurrently; the only state is
// the immutable backend root.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCALFS_BACKEND_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCALFS_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>

#include "backend_root.h"
#include "mode_bits.h"
#include "sftpgate/backend.h"

namespace sftpgate::localfs {

class LocalFsBackend final : public Backend {
 public:
  explicit LocalFsBackend(BackendRoot root, ModePolicy modes = {})
      : root_(std::move(root)), modes_(modes) {}

  std::string Name() const override { return "localfs 1.0"; }

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
  // readdir(3) has no order: the names are read and sorted first.
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
  // Walks the session's tree without following symlinks (temporary files
  // of uploads in progress are not counted).
  absl::StatusOr<UsageInfo> Usage(const Session& session) override;
  absl::StatusOr<StatFsInfo> StatFs(const Session& session,
                                    absl::string_view path) override;
  absl::Status SetStatNoFollow(const Session& session, absl::string_view path,
                               const Attributes& attributes) override;

 private:
  struct Request;
  enum class Access { kRead, kModify };

  // Checks the session may do `access`, opens its tree and parses `path`;
  // `op` names the operation in error messages.
  absl::StatusOr<Request> Begin(const Session& session, absl::string_view op,
                                absl::string_view path, Access access) const;

  const BackendRoot root_;
  const ModePolicy modes_;
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCALFS_BACKEND_H_
