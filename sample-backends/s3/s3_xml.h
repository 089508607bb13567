// The XML bodies of the S3 API calls the backend makes, read and written
// with tinyxml2. Parsing is lenient about namespaces and unknown elements
// (stores differ) and strict about what the backend relies on.
//
// Thread safety: all functions are pure and safe to call concurrently.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_S3_XML_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_S3_XML_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::s3 {

// <Error><Code>..</Code><Message>..</Message></Error>. Missing parts are
// left empty; a body that is not an Error document gives empty fields.
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody ParseErrorBody(absl::string_view xml);

// One page of ListObjectsV2.
struct ListedObject {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified = 0;  // seconds since the epoch
};
struct ListPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> prefixes;    // CommonPrefixes, full prefixes
  std::string next_continuation_token;  // empty when not truncated
};
absl::StatusOr<ListPage> ParseListObjectsV2(absl::string_view xml);

// One page of ListMultipartUploads.
struct PendingUpload {
  std::string key;
  std::string upload_id;
};
struct UploadsPage {
  std::vector<PendingUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
absl::StatusOr<UploadsPage> ParseListMultipartUploads(absl::string_view xml);

// The value of the first element named `name` beneath the root of `xml`
// (UploadId of InitiateMultipartUploadResult, ETag of CopyObjectResult or
// CopyPartResult). FAILED_PRECONDITION when the root is an <Error> (S3
// reports some failures with status 200) and INTERNAL when absent.
absl::StatusOr<std::string> ParseResultField(absl::string_view xml,
                                             absl::string_view name);

// True when `xml` parses and its root element is <Error>.
bool IsErrorDocument(absl::string_view xml);

// The CompleteMultipartUpload request body for parts 1..etags.size().
std::string CompleteMultipartXml(const std::vector<std::string>& etags);

// Seconds since the epoch of an ISO 8601 time as S3 lists them
// ("2026-12-03T19:00:00.000Z"); 0 when it does not parse.
int64_t ParseIsoTime(absl::string_view text);

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_S3_XML_H_
