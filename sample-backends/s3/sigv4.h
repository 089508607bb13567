// AWS Signature Version 4 for S3 requests, computed with OpenSSL.
//
// libcurl 7.88's CURLOPT_AWS_SIGV4 leaves the canonical query string and
// x-amz-content-sha256 to the caller (curl issue 9717), so the backend
// signs every request itself and hands curl the finished headers. The
// signer is checked against AWS's published test vectors (tests/s3).
//
// Thread safety: all functions are pure and safe to call concurrently.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_SIGV4_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_SIGV4_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sftpgate::s3 {

// The SHA-256 of the empty string, hex: the payload hash of bodiless
// requests.
inline constexpr absl::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// RFC 3986 percent-encoding as SigV4 wants it: everything but
// A-Z a-z 0-9 - _ . ~ is encoded (upper-case hex); "/" too unless
// `keep_slash`.
std::string UriEncode(absl::string_view text, bool keep_slash);

// Query parameters, unencoded. Sorted and encoded by CanonicalQuery.
using QueryParams = std::vector<std::pair<std::string, std::string>>;

// The canonical query string: each name and value UriEncoded, pairs
// sorted by encoded name then value, joined with "&" ("name=" for an empty
// value). The same string is used in the request URL so that what is sent
// is exactly what was signed.
std::string CanonicalQuery(const QueryParams& params);

struct SigningKeyId {
  std::string access_key_id;
  std::string secret_access_key;
};

struct SignatureInput {
  std::string method;           // "GET", "PUT", ...
  std::string canonical_uri;    // already encoded, e.g. "/bucket/a%20b"
  std::string canonical_query;  // from CanonicalQuery
  // Headers to sign, names in any case; must include "host" and
  // "x-amz-date" (YYYYMMDD'T'HHMMSS'Z'). Values are trimmed and inner runs
  // of spaces collapsed as SigV4 requires.
  std::map<std::string, std::string> headers;
  std::string payload_sha256;  // hex, or "UNSIGNED-PAYLOAD"
  std::string region;          // "us-east-1"
  std::string service;         // "s3"
};

// Returns the value of the Authorization header for `input`.
std::string AuthorizationHeader(const SignatureInput& input,
                                const SigningKeyId& key);

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_SIGV4_H_
