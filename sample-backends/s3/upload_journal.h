// UploadJournal: which multipart uploads this replica has open, recorded in
// the bucket itself so that replicas stay stateless. Each upload in
// progress has a tiny object
//   <prefix>.sftpgate-uploads/<replica id>/<sha256 of the upload id>
// (body: "<upload id>\n<key>")
// written when the upload is created and deleted when it completes or
// aborts. A replica that starts again with the same --replica_id (after a
// crash or SIGKILL) aborts every upload listed under its own id before it
// serves, so no multipart upload of the dead process is left behind, and it
// never touches another replica's entries, so live uploads elsewhere are
// never aborted. Two processes must not share one replica id.
//
// Thread safety: all methods may be called concurrently.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_UPLOAD_JOURNAL_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_UPLOAD_JOURNAL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "s3_client.h"

namespace sftpgate::s3 {

// The name of the journal's folder beneath the served prefix; sessions
// whose root is the prefix itself cannot see or touch it.
inline constexpr absl::string_view kJournalDirName = ".sftpgate-uploads";

class UploadJournal {
 public:
  // `prefix` is the served key prefix ("" or ending in "/").
  UploadJournal(S3Client* client, const std::string& prefix,
                std::string replica_id);

  // Records that `upload_id` (of object `key`) is open. An error fails the
  // upload (which is then aborted): an unrecorded upload could outlive a
  // crash.
  absl::Status Record(const std::string& key, const std::string& upload_id);
  // Forgets `upload_id` once completed or aborted. Best effort: a stale
  // entry only makes the next start abort an upload that no longer exists.
  void Forget(const std::string& upload_id);
  // Aborts every upload recorded under this replica id and forgets it.
  // Returns how many were aborted.
  absl::StatusOr<int> AbortLeftovers();

  const std::string& replica_id() const { return replica_id_; }

 private:
  std::string EntryKey(const std::string& upload_id) const;

  S3Client* const client_;
  const std::string replica_id_;
  const std::string folder_;  // <prefix>.sftpgate-uploads/<replica id>/
};

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_UPLOAD_JOURNAL_H_
