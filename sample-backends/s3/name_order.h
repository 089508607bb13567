// NameOrderer: turns the entries of one delimited S3 listing, which arrive
// in key order, into the contract's order (ascending bytes of the name).
//
// The two orders differ only around '/': a directory "a" is the common
// prefix "a/", which S3 lists after "a-b" and "a.txt" ('-' and '.' sort
// before '/'), while by name "a" comes first. So an entry is held until no
// directory that sorts before it by name can still come: for a name N,
// that is once the listing has passed "D/" for the shortest D with N = D c
// ... and c < '/' (a later such D' has a key below "D/"). Entries with no
// such prefix go out as soon as everything before them by name has. Only
// the runs between "D<c" and "D/" are ever held.
//
// Thread safety: not thread-safe (one listing).

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_NAME_ORDER_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_NAME_ORDER_H_

#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sftpgate/backend.h"

namespace sftpgate::s3 {

class NameOrderer {
 public:
  explicit NameOrderer(const DirEntrySink& sink) : sink_(sink) {}

  // Takes the next entry of the listing: its key relative to the listed
  // folder (the name, plus '/' for a directory), strictly greater than
  // every key before it. Passes on what can go; returns the sink's error.
  absl::Status Add(std::string relative_key, DirEntry entry);
  // The listing ended: passes on everything held.
  absl::Status Finish();

 private:
  // Passes on the held entries that nothing still to come precedes, given
  // that the listing has reached `position` (a relative key).
  absl::Status Release(absl::string_view position);

  const DirEntrySink& sink_;
  // name -> (the key the listing must reach first, the entry).
  std::map<std::string, std::pair<std::string, DirEntry>> held_;
};

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_NAME_ORDER_H_
