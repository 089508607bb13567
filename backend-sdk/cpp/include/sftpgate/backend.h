// The C++ interface a storage backend implements. Serve an implementation
// with ServeBackend() (server.h); the front end reaches it over gRPC.
//
// Paths: every path handed to a Backend method is absolute and normalized
// ("/", "/a/b") and is in the *session's view*: "/" means session.root()
// inside the backend. An implementation must confine every path, and every
// symlink it follows, beneath that root (see paths.h for helpers) and must
// answer PERMISSION_DENIED when a path would leave it.
//
// Errors: methods report failure with absl::Status. The code is sent to the
// front end as the gRPC status code and mapped to an SFTP status as the
// table in proto/sftpgate/v1/backend.proto says (NOT_FOUND -> "No such
// file", PERMISSION_DENIED -> "Permission denied", ALREADY_EXISTS and
// FAILED_PRECONDITION -> "Failure" with the message, ...). Messages reach
// the client: keep them short and free of secrets.
//
// Thread safety: the host calls a Backend from many threads at once, for
// many sessions. Every Backend method must be safe to call concurrently.
// A FileReader or FileWriter is used by one thread at a time (the host
// never calls one object concurrently) but not always the same thread.

#ifndef SFTPGATE_BACKEND_H_
#define SFTPGATE_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate {

// The authenticated session a request belongs to (user, root, read-only,
// tenant, ...). See Session in backend.proto.
using Session = v1::Session;
// File attributes; unset optional fields mean "unknown" / "unchanged".
using Attributes = v1::Attributes;
using DirEntry = v1::DirEntry;
using StatFsInfo = v1::StatFsResponse;
using UsageInfo = v1::UsageResponse;
using HashRequest = v1::HashRequest;
using HashAlgorithm = v1::HashAlgorithm;
using WriteHeader = v1::WriteHeader;

// Reads one file sequentially, starting at the offset given to
// Backend::OpenRead. Deleting the reader releases everything it holds.
class FileReader {
 public:
  virtual ~FileReader() = default;

  // Replaces *data with the next bytes of the file, at most `max_bytes`
  // (> 0). Returns OK with an empty *data at end of file; fewer bytes than
  // asked do not mean end of file. Returns an error status if the file
  // cannot be read; the host then ends the stream with that status.
  virtual absl::Status Read(size_t max_bytes, std::string* data) = 0;
};

// Receives one upload. Bytes written are not visible to anyone until
// Commit() succeeds. If the writer is deleted without a successful Commit()
// (client vanished, stream cancelled, Write failed), the upload must leave
// no trace: Abort() is called first, then the destructor.
class FileWriter {
 public:
  virtual ~FileWriter() = default;

  // Writes `data` at `offset`. Offsets are strictly sequential unless
  // Backend::AcceptsRandomWrites() returns true, in which case they may
  // come in any order and leave holes (read back as zeros). Returns an
  // error (e.g. RESOURCE_EXHAUSTED when out of space) to fail the upload.
  virtual absl::Status Write(uint64_t offset, absl::string_view data) = 0;

  // Makes the upload visible atomically and returns the file's size
  // afterwards. Called at most once, after the last Write. On error the
  // upload is discarded as if aborted and the status reaches the client.
  virtual absl::StatusOr<uint64_t> Commit() = 0;

  // Discards the upload. Called at most once, instead of Commit. Must not
  // fail; must leave the path as it was before the upload began.
  virtual void Abort() = 0;
};

// Called once per entry by Backend::ListDir. Returns OK to go on, or an
// error (CANCELLED when the client went away) that ListDir must return
// promptly without emitting more. The host sends entries in batches
// (ServeOptions::list_batch_size), so a client gone is seen when a batch
// fills, not at every entry.
using DirEntrySink = std::function<absl::Status(DirEntry entry)>;

// The storage interface. The mandatory operations are pure virtual; the
// optional ones (symlinks, hard links, statfs, realpath, lsetstat) answer
// UNIMPLEMENTED unless overridden, and the host reports in Describe exactly
// those a subclass overrides (it detects overrides at compile time, see
// ServeBackend in server.h).
class Backend {
 public:
  virtual ~Backend() = default;

  // A short name and version for logs, e.g. "memory 1.0". Never fails.
  virtual std::string Name() const = 0;

  // Returns the attributes of `path`; with `follow_symlinks` false a final
  // symlink is described itself (LSTAT). The mode must carry the file type
  // bits. NOT_FOUND if `path` does not exist.
  virtual absl::StatusOr<Attributes> Stat(const Session& session,
                                          absl::string_view path,
                                          bool follow_symlinks) = 0;

  // Creates the directory `path` with the permission bits of
  // `attributes.mode()` (0755 when unset). NOT_FOUND if the parent is
  // missing; ALREADY_EXISTS if `path` exists.
  virtual absl::Status MakeDir(const Session& session, absl::string_view path,
                               const Attributes& attributes) = 0;

  // Removes the empty directory `path`. NOT_FOUND if missing;
  // FAILED_PRECONDITION if not empty or not a directory; PERMISSION_DENIED
  // for "/".
  virtual absl::Status RemoveDir(const Session& session,
                                 absl::string_view path) = 0;

  // Removes the file or symlink `path` (a symlink itself, never its
  // target). NOT_FOUND if missing; FAILED_PRECONDITION for a directory.
  virtual absl::Status Remove(const Session& session,
                              absl::string_view path) = 0;

  // Moves `from` (file, symlink or a whole directory tree) to `to`.
  // NOT_FOUND if `from` or the parent of `to` is missing. When `to` exists:
  // ALREADY_EXISTS unless `overwrite`; with `overwrite`, replaces it as
  // rename(2) does (FAILED_PRECONDITION for a non-empty directory or a
  // file/directory mismatch). INVALID_ARGUMENT when moving a directory
  // beneath itself. from == to succeeds and changes nothing.
  virtual absl::Status Rename(const Session& session, absl::string_view from,
                              absl::string_view to, bool overwrite) = 0;

  // Changes the attributes that are set in `attributes`: mode (permission
  // bits), uid/gid, atime/mtime, size (truncate or extend with zeros).
  // A final symlink is followed (see SetStatNoFollow for the link itself).
  // NOT_FOUND if missing.
  virtual absl::Status SetStat(const Session& session, absl::string_view path,
                               const Attributes& attributes) = 0;

  // Streams the entries of directory `path` (without "." and "..") to
  // `sink`, each with its LSTAT attributes. NOT_FOUND if missing;
  // FAILED_PRECONDITION if not a directory. Returns the first non-OK status
  // `sink` returns. Must not hold the whole listing in memory twice.
  // Entries come in ascending byte order of name (as std::string compares:
  // memcmp of the bytes), so that a broken listing can be resumed after
  // the last name received (ListDirAfter). Names travel as UTF-8: the host
  // leaves out (and logs, escaped) entries whose name is not valid UTF-8,
  // e.g. a Latin-1 name on disk, and clears owner/group names that are
  // not; emit them as they are, the rest of the listing is unaffected.
  virtual absl::Status ListDir(const Session& session, absl::string_view path,
                               const DirEntrySink& sink) = 0;

  // ListDir resumed: only the entries whose name sorts after `start_after`
  // (which need not exist); all of them when it is empty. This serves
  // ListDirRequest.start_after. The default runs ListDir and passes on the
  // names after `start_after`, exact because ListDir lists in name order;
  // override it to seek there instead of reading past the entries before.
  virtual absl::Status ListDirAfter(const Session& session,
                                    absl::string_view path,
                                    absl::string_view start_after,
                                    const DirEntrySink& sink);

  // Opens `path` for reading from byte `offset` (which may be past EOF: the
  // reader then returns EOF at once). NOT_FOUND if missing;
  // FAILED_PRECONDITION if a directory.
  virtual absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path, uint64_t offset) = 0;

  // Begins an upload described by `header` (path, WriteHeader flags,
  // attributes for a new file). Errors that the header alone decides come
  // from here: NOT_FOUND (missing without FLAG_CREATE, or missing parent),
  // ALREADY_EXISTS (FLAG_EXCLUSIVE), FAILED_PRECONDITION (a directory),
  // PERMISSION_DENIED (read-only session). Without FLAG_TRUNCATE the
  // committed file starts from the existing contents.
  virtual absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) = 0;

  // True when writers accept chunks at any offset, in any order. The
  // front end otherwise sends strictly sequential chunks.
  virtual bool AcceptsRandomWrites() const { return false; }

  // ---- Optional operations: UNIMPLEMENTED unless overridden. ----

  // Creates a symlink at `link_path` containing `target` verbatim.
  // ALREADY_EXISTS if `link_path` exists.
  virtual absl::Status Symlink(const Session& session,
                               absl::string_view link_path,
                               absl::string_view target);

  // Returns the stored target of symlink `path`. NOT_FOUND if missing;
  // INVALID_ARGUMENT if `path` is not a symlink. The host answers a target
  // that is not valid UTF-8 with FAILED_PRECONDITION.
  virtual absl::StatusOr<std::string> ReadLink(const Session& session,
                                               absl::string_view path);

  // Makes `new_path` another name of file `existing_path`. NOT_FOUND if
  // missing; ALREADY_EXISTS if `new_path` exists; FAILED_PRECONDITION for a
  // directory.
  virtual absl::Status Link(const Session& session,
                            absl::string_view existing_path,
                            absl::string_view new_path);

  // Returns `path` with every symlink resolved, in the session's view. The
  // last component need not exist. The host answers a result that is not
  // valid UTF-8 with FAILED_PRECONDITION.
  virtual absl::StatusOr<std::string> RealPath(const Session& session,
                                               absl::string_view path);

  // Returns statvfs(3)-style figures for the filesystem holding `path`.
  virtual absl::StatusOr<StatFsInfo> StatFs(const Session& session,
                                            absl::string_view path);

  // Bytes and number of the regular files beneath the session's root, for
  // per-user quotas.
  virtual absl::StatusOr<UsageInfo> Usage(const Session& session);

  // Digests of request.path()'s bytes that the backend can give without
  // the front end reading the file (stored at upload, an object store's
  // ETag, ...): one per request.block_size() bytes of the range, or exactly
  // one when block_size is 0. Asked only for the algorithms
  // HashAlgorithms() lists. UNIMPLEMENTED for a request it cannot answer
  // cheaply (the front end then reads and hashes the file itself);
  // NOT_FOUND if missing; FAILED_PRECONDITION if not a regular file.
  virtual absl::StatusOr<std::vector<std::string>> Hash(
      const Session& session, const HashRequest& request);
  // The algorithms Hash serves (Describe.hash_algorithms); empty (the
  // default): none, and Hash is never asked.
  virtual std::vector<HashAlgorithm> HashAlgorithms() const { return {}; }

  // SetStat on a symlink itself (lsetstat@openssh.com).
  virtual absl::Status SetStatNoFollow(const Session& session,
                                       absl::string_view path,
                                       const Attributes& attributes);
};

}  // namespace sftpgate

#endif  // SFTPGATE_BACKEND_H_
