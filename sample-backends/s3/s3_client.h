// S3Client: the S3 REST calls the backend needs, over libcurl, each signed
// with SigV4 (sigv4.h). One bucket per client. Transport failures become
// UNAVAILABLE; S3 errors map to absl codes (404 NOT_FOUND, 403
// PERMISSION_DENIED, 5xx UNAVAILABLE, others FAILED_PRECONDITION) with the
// store's error code in the message. Messages carry object keys, never
// credentials.
//
// Thread safety: every method may be called concurrently. Curl easy
// handles are pooled (a handle keeps its connections alive between
// requests) and used by one request at a time.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_S3_CLIENT_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_S3_CLIENT_H_

#include <curl/curl.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "credentials.h"
#include "s3_xml.h"
#include "sigv4.h"

namespace sftpgate::s3 {

struct StoreOptions {
  std::string endpoint;  // "https://s3.eu-west-1.amazonaws.com"
  std::string region = "us-east-1";
  std::string bucket;
  bool path_style = true;  // https://host/bucket/key vs https://bucket.host/key
  std::string ca_file;     // empty: the system's CA store
  bool verify_tls = true;
  Credentials credentials;
};

// Request headers, lower-case names.
using Headers = std::map<std::string, std::string>;

// What HEAD tells about an object.
struct ObjectInfo {
  uint64_t size = 0;
  int64_t last_modified = 0;  // seconds since the epoch
  Headers metadata;           // x-amz-meta-* (names without the prefix)
};

class S3Client {
 public:
  // Checks the options (endpoint URL, bucket name) without contacting the
  // store. INVALID_ARGUMENT with the reason.
  static absl::StatusOr<std::unique_ptr<S3Client>> Create(StoreOptions options);
  ~S3Client();

  // One prepared HTTP exchange; see Send.
  struct Request {
    std::string method = "GET";
    std::string key;  // empty: the bucket itself
    QueryParams query;
    Headers headers;
    absl::string_view body;  // sent as is (PUT, POST)
  };
  struct Response {
    long status = 0;
    Headers headers;  // lower-case names
    std::string body;
  };

  // Sends `request` and returns the response whatever its HTTP status;
  // UNAVAILABLE when the store cannot be reached.
  absl::StatusOr<Response> Send(const Request& request);

  // The absl status for a non-2xx `response` to `what` (e.g. "GET key").
  static absl::Status ErrorStatus(const Response& response,
                                  absl::string_view what);

  // A curl easy handle set up for `request` (URL, signed headers, TLS),
  // for callers that stream the body themselves (ObjectReader). The
  // caller owns both results: curl_easy_cleanup and curl_slist_free_all.
  CURL* PrepareHandle(const Request& request, curl_slist** header_list);

  // ---- The S3 operations. `key` is a full object key. ----

  // HEAD object. NOT_FOUND if absent.
  absl::StatusOr<ObjectInfo> Head(const std::string& key);
  // PUT object with `body` and request `headers` (x-amz-meta-*).
  absl::Status Put(const std::string& key, absl::string_view body,
                   const Headers& headers);
  // DELETE object (absent keys succeed, as S3 does).
  absl::Status Delete(const std::string& key);
  // Server-side copy of a whole object of at most 5 GiB. `metadata`
  // (names without x-amz-meta-) replaces the source's when not null;
  // otherwise the copy keeps it.
  absl::Status Copy(const std::string& from, const std::string& to,
                    const Headers* metadata);
  // Appends bytes [first, last] of `key` to *out.
  absl::Status GetRange(const std::string& key, uint64_t first, uint64_t last,
                        std::string* out);
  // One ListObjectsV2 page under `prefix` (delimiter "/" when
  // `delimited`), at most `max_keys` entries, after `token`; with
  // `start_after` (a full key), only keys after it.
  absl::StatusOr<ListPage> List(const std::string& prefix, bool delimited,
                                const std::string& token, int max_keys,
                                const std::string& start_after = "");

  // Multipart uploads. Part numbers start at 1; results are ETags.
  absl::StatusOr<std::string> CreateMultipart(const std::string& key,
                                              const Headers& headers);
  absl::StatusOr<std::string> UploadPart(const std::string& key,
                                         const std::string& upload_id, int part,
                                         absl::string_view body);
  absl::StatusOr<std::string> UploadPartCopy(const std::string& key,
                                             const std::string& upload_id,
                                             int part, const std::string& from,
                                             uint64_t first, uint64_t last);
  absl::Status CompleteMultipart(const std::string& key,
                                 const std::string& upload_id,
                                 const std::vector<std::string>& etags);
  absl::Status AbortMultipart(const std::string& key,
                              const std::string& upload_id);
  // One ListMultipartUploads page under `prefix`, after the markers.
  absl::StatusOr<UploadsPage> ListMultipart(const std::string& prefix,
                                            const std::string& key_marker,
                                            const std::string& id_marker);

  const StoreOptions& options() const { return options_; }

 private:
  S3Client(StoreOptions options, std::string scheme, std::string host,
           std::string base_path);

  // The encoded request path ("/bucket/key" or "/key") and full URL.
  std::string CanonicalUri(const std::string& key) const;
  // Signed header lines for `request` with `payload_sha256`.
  curl_slist* SignedHeaders(const Request& request,
                            const std::string& canonical_uri,
                            const std::string& canonical_query) const;
  CURL* Acquire();
  void Release(CURL* handle);

  const StoreOptions options_;
  const std::string scheme_;
  const std::string host_;       // host[:port] as sent and signed
  const std::string base_path_;  // "/bucket" (path style) or ""
  absl::Mutex mutex_;
  std::vector<CURL*> idle_ ABSL_GUARDED_BY(mutex_);
};

// "x-amz-meta-NAME" request headers for metadata `name` -> value.
Headers MetadataHeaders(const Headers& metadata);

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_S3_CLIENT_H_
