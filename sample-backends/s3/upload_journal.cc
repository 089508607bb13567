#include "upload_journal.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "sigv4.h"

namespace sftpgate::s3 {

UploadJournal::UploadJournal(S3Client* client, const std::string& prefix,
                             std::string replica_id)
    : client_(client),
      replica_id_(std::move(replica_id)),
      folder_(absl::StrCat(prefix, kJournalDirName, "/",
                           UriEncode(replica_id_, false), "/")) {}

std::string UploadJournal::EntryKey(const std::string& upload_id) const {
  // Hashed: upload ids are opaque and may hold characters awkward in keys.
  return absl::StrCat(folder_, Sha256Hex(upload_id));
}

absl::Status UploadJournal::Record(const std::string& key,
                                   const std::string& upload_id) {
  return client_->Put(EntryKey(upload_id), absl::StrCat(upload_id, "\n", key),
                      {});
}

void UploadJournal::Forget(const std::string& upload_id) {
  client_->Delete(EntryKey(upload_id)).IgnoreError();
}

absl::StatusOr<int> UploadJournal::AbortLeftovers() {
  std::vector<ListedObject> entries;
  std::string token;
  do {
    absl::StatusOr<ListPage> page = client_->List(folder_, false, token, 1000);
    if (!page.ok()) return page.status();
    for (ListedObject& entry : page->objects) entries.push_back(entry);
    token = page->next_continuation_token;
  } while (!token.empty());
  int aborted = 0;
  for (const ListedObject& entry : entries) {
    absl::StatusOr<S3Client::Response> body =
        client_->Send({"GET", entry.key, {}, {}, {}});
    if (!body.ok()) return body.status();
    if (body->status / 100 == 2) {
      // The body is "<upload id>\n<key>" (an upload id has no newline).
      const size_t newline = body->body.find('\n');
      if (newline != std::string::npos) {
        absl::Status status = client_->AbortMultipart(
            body->body.substr(newline + 1), body->body.substr(0, newline));
        if (!status.ok()) return status;
        ++aborted;
      }
    }
    if (absl::Status status = client_->Delete(entry.key); !status.ok()) {
      return status;
    }
  }
  return aborted;
}

}  // namespace sftpgate::s3
