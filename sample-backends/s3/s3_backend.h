// S3Backend: serves one bucket (optionally beneath a key prefix) of an
// S3-compatible store. A session path maps to the key
//   <prefix><Session.root without its leading "/">/<path>
// so every session is confined to its own key prefix (paths.h's
// ResolveBeneath refuses ".." escapes). What each operation costs and the
// differences from a disk are in docs/s3.md; in short:
// - Files are objects; directories are zero-byte "dir/" marker objects
//   (MakeDir), and any prefix with keys beneath it is a directory too.
//   Removing the last entry of a directory leaves a marker for it, so
//   directories never vanish under a client.
// - Reads are one streamed ranged GET per read stream (ObjectReader);
//   uploads are one PUT or a multipart upload published on commit
//   (ObjectWriter); writes are sequential (no random writes).
// - Times and permission bits set by SETSTAT/MKDIR/OPEN are kept in
//   x-amz-meta-mtime/-atime/-mode (else Last-Modified is the time); listings
//   show each object's Last-Modified and default permissions (S3 returns no
//   metadata in listings). Owner and group are not kept: setting them
//   succeeds and changes nothing, or fails with UNIMPLEMENTED when
//   `strict_setstat`.
// - Rename copies server-side then deletes; a directory is renamed key by
//   key (not atomically) and refused with FAILED_PRECONDITION beyond
//   `max_rename_keys` objects.
// - No symlinks, hard links, statfs or realpath (Describe says so).
//
// Thread safety: all methods may be called concurrently; the state is the
// thread-safe S3Client and UploadJournal and immutable options.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_S3_BACKEND_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_S3_BACKEND_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "s3_client.h"
#include "sftpgate/backend.h"
#include "upload_journal.h"

namespace sftpgate::s3 {

struct BackendOptions {
  std::string prefix;  // "" or ending in "/"
  uint64_t part_size = 8 << 20;
  size_t read_buffer = 1 << 20;  // per read stream
  bool strict_setstat = false;
  int max_rename_keys = 1000;
};

class S3Backend final : public Backend {
 public:
  // `client` and `journal` must outlive the backend.
  S3Backend(S3Client* client, UploadJournal* journal, BackendOptions options);

  std::string Name() const override { return "s3 1.0"; }

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
  // Lists with S3's start-after, in name order (NameOrderer).
  absl::Status ListDirAfter(const Session& session, absl::string_view path,
                            absl::string_view start_after,
                            const DirEntrySink& sink) override;
  absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path, uint64_t offset) override;
  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) override;

 private:
  // Where a session path lives in the bucket.
  struct Location {
    std::string path;    // session path, normalized
    bool root = false;   // the session's "/"
    std::string key;     // object key of a file ("" for the root)
    std::string folder;  // key prefix of its entries (ends in "/" or "")
  };
  enum class Kind { kMissing, kFile, kDirectory };
  struct Node {
    Kind kind = Kind::kMissing;
    ObjectInfo info;  // the object, or the directory's marker
    bool marker = false;
  };

  absl::StatusOr<Location> Locate(const Session& session,
                                  absl::string_view path) const;
  Location Parent(const Session& session, const Location& location) const;
  // What is at `location`: a file (HEAD), a directory (marker HEAD, else
  // any key beneath it) or nothing.
  absl::StatusOr<Node> Lookup(const Location& location);
  // Like Lookup, in at most two requests, without a directory's marker
  // metadata (for existence and type checks).
  absl::StatusOr<Node> Probe(const Location& location);
  // True when `location` is a directory (one LIST).
  absl::StatusOr<bool> IsDirectory(const Location& location);
  // OK when `location`'s parent is a directory; NOT_FOUND when missing,
  // FAILED_PRECONDITION when a file.
  absl::Status RequireParent(const Session& session, const Location& location);
  // True when there is a key beneath `folder` other than its marker.
  absl::StatusOr<bool> HasChildren(const std::string& folder);
  // Writes a marker for the parent of `location` if removing it left the
  // parent without keys.
  void KeepParent(const Session& session, const Location& location);
  // Server-side copy of an object (multipart past 5 GiB); `metadata`
  // replaces the source's when set.
  absl::Status CopyObject(const std::string& from, const std::string& to,
                          uint64_t size, const Headers& metadata);
  absl::Status RenameDirectory(const Location& from, const Location& to);
  Attributes AttributesOf(const Node& node) const;

  S3Client* const client_;
  UploadJournal* const journal_;
  const BackendOptions options_;
};

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_S3_BACKEND_H_
