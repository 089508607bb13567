#include "s3_client.h"

#include <algorithm>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sftpgate::s3 {
namespace {

constexpr absl::string_view kMetaPrefix = "x-amz-meta-";

// Reads one URL part; empty when absent.
std::string UrlPart(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) {
    return "";
  }
  std::string out(value);
  curl_free(value);
  return out;
}

size_t CollectBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<Headers*>(user);
  absl::string_view line(data, size * count);
  if (absl::StartsWith(line, "HTTP/")) {
    headers->clear();  // a new response (after 100 Continue, redirects)
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    (*headers)[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * count;
}

struct BodySource {
  absl::string_view rest;
};

size_t SupplyBody(char* buffer, size_t size, size_t count, void* user) {
  auto* source = static_cast<BodySource*>(user);
  const size_t n = std::min(size * count, source->rest.size());
  std::memcpy(buffer, source->rest.data(), n);
  source->rest.remove_prefix(n);
  return n;
}

absl::Status ExpectOk(const absl::StatusOr<S3Client::Response>& response,
                      absl::string_view what) {
  if (!response.ok()) return response.status();
  if (response->status / 100 != 2) {
    return S3Client::ErrorStatus(*response, what);
  }
  // CopyObject and CompleteMultipartUpload may fail with status 200.
  if (!response->body.empty() && IsErrorDocument(response->body)) {
    return S3Client::ErrorStatus(*response, what);
  }
  return absl::OkStatus();
}

}  // namespace

Headers MetadataHeaders(const Headers& metadata) {
  Headers out;
  for (const auto& [name, value] : metadata) {
    out[absl::StrCat(kMetaPrefix, name)] = value;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<S3Client>> S3Client::Create(
    StoreOptions options) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (options.bucket.empty() || options.bucket.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(
        "--bucket must be a bucket name (no '/')");
  }
  if (options.region.empty()) {
    return absl::InvalidArgumentError("--region must not be empty");
  }
  CURLU* url = curl_url();
  const CURLUcode parsed =
      curl_url_set(url, CURLUPART_URL, options.endpoint.c_str(), 0);
  const std::string scheme = UrlPart(url, CURLUPART_SCHEME);
  const std::string host = UrlPart(url, CURLUPART_HOST);
  const std::string port = UrlPart(url, CURLUPART_PORT);
  const std::string path = UrlPart(url, CURLUPART_PATH);
  const std::string query = UrlPart(url, CURLUPART_QUERY);
  curl_url_cleanup(url);
  if (parsed != CURLUE_OK || (scheme != "http" && scheme != "https") ||
      host.empty() || (!path.empty() && path != "/") || !query.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--endpoint must be an http:// or https:// URL without a path, got '",
        options.endpoint, "'"));
  }
  std::string authority =
      options.path_style ? host : absl::StrCat(options.bucket, ".", host);
  if (!port.empty()) absl::StrAppend(&authority, ":", port);
  std::string base_path =
      options.path_style ? absl::StrCat("/", UriEncode(options.bucket, false))
                         : "";
  return std::unique_ptr<S3Client>(new S3Client(
      std::move(options), scheme, std::move(authority), std::move(base_path)));
}

S3Client::S3Client(StoreOptions options, std::string scheme, std::string host,
                   std::string base_path)
    : options_(std::move(options)),
      scheme_(std::move(scheme)),
      host_(std::move(host)),
      base_path_(std::move(base_path)) {}

S3Client::~S3Client() {
  absl::MutexLock lock(&mutex_);
  for (CURL* handle : idle_) curl_easy_cleanup(handle);
}

CURL* S3Client::Acquire() {
  {
    absl::MutexLock lock(&mutex_);
    if (!idle_.empty()) {
      CURL* handle = idle_.back();
      idle_.pop_back();
      curl_easy_reset(handle);  // keeps its live connections
      return handle;
    }
  }
  return curl_easy_init();
}

void S3Client::Release(CURL* handle) {
  absl::MutexLock lock(&mutex_);
  idle_.push_back(handle);
}

std::string S3Client::CanonicalUri(const std::string& key) const {
  return absl::StrCat(base_path_, "/", UriEncode(key, /*keep_slash=*/true));
}

curl_slist* S3Client::SignedHeaders(const Request& request,
                                    const std::string& canonical_uri,
                                    const std::string& canonical_query) const {
  SignatureInput input;
  input.method = request.method;
  input.canonical_uri = canonical_uri;
  input.canonical_query = canonical_query;
  input.headers = request.headers;
  input.headers["host"] = host_;
  input.headers["x-amz-date"] =
      absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone());
  input.payload_sha256 = request.body.empty() ? std::string(kEmptySha256)
                                              : Sha256Hex(request.body);
  input.headers["x-amz-content-sha256"] = input.payload_sha256;
  const Credentials& credentials = options_.credentials;
  if (!credentials.session_token.empty()) {
    input.headers["x-amz-security-token"] = credentials.session_token;
  }
  input.region = options_.region;
  input.service = "s3";
  const std::string authorization = AuthorizationHeader(
      input, {credentials.access_key_id, credentials.secret_access_key});
  curl_slist* list = nullptr;
  for (const auto& [name, value] : input.headers) {
    list = curl_slist_append(list, absl::StrCat(name, ": ", value).c_str());
  }
  list = curl_slist_append(
      list, absl::StrCat("authorization: ", authorization).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  return list;
}

CURL* S3Client::PrepareHandle(const Request& request,
                              curl_slist** header_list) {
  CURL* handle = Acquire();
  const std::string uri = CanonicalUri(request.key);
  const std::string query = CanonicalQuery(request.query);
  std::string url = absl::StrCat(scheme_, "://", host_, uri);
  if (!query.empty()) absl::StrAppend(&url, "?", query);
  *header_list = SignedHeaders(request, uri, query);
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, *header_list);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled store fails the call instead of hanging it.
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYPEER,
                   options_.verify_tls ? 1L : 0L);
  curl_easy_setopt(handle, CURLOPT_SSL_VERIFYHOST,
                   options_.verify_tls ? 2L : 0L);
  if (!options_.ca_file.empty()) {
    curl_easy_setopt(handle, CURLOPT_CAINFO, options_.ca_file.c_str());
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (request.method == "POST") {
    curl_easy_setopt(handle, CURLOPT_POST, 1L);
    curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(handle, CURLOPT_COPYPOSTFIELDS, request.body.data());
  } else if (request.method != "GET") {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  return handle;
}

absl::StatusOr<S3Client::Response> S3Client::Send(const Request& request) {
  curl_slist* header_list = nullptr;
  CURL* handle = PrepareHandle(request, &header_list);
  Response response;
  BodySource source{request.body};
  if (request.method == "PUT") {
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, SupplyBody);
    curl_easy_setopt(handle, CURLOPT_READDATA, &source);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response.body);
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error);
  const CURLcode code = curl_easy_perform(handle);
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response.status);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(header_list);
  if (code != CURLE_OK) {
    curl_easy_cleanup(handle);  // its connection state is unknown
    return absl::UnavailableError(
        absl::StrCat("S3 endpoint ", options_.endpoint, ": ",
                     error[0] != '\0' ? error : curl_easy_strerror(code)));
  }
  Release(handle);
  return response;
}

absl::Status S3Client::ErrorStatus(const Response& response,
                                   absl::string_view what) {
  const ErrorBody error = ParseErrorBody(response.body);
  std::string message = absl::StrCat("S3 ", what, ": HTTP ", response.status);
  if (!error.code.empty()) absl::StrAppend(&message, " ", error.code);
  if (!error.message.empty())
    absl::StrAppend(&message, " (", error.message, ")");
  if (response.status == 404) return absl::NotFoundError(message);
  if (response.status == 403) return absl::PermissionDeniedError(message);
  if (response.status == 416) return absl::OutOfRangeError(message);
  if (response.status == 501) return absl::UnimplementedError(message);
  if (response.status >= 500 || error.code == "SlowDown") {
    return absl::UnavailableError(message);
  }
  return absl::FailedPreconditionError(message);
}

absl::StatusOr<ObjectInfo> S3Client::Head(const std::string& key) {
  absl::StatusOr<Response> response = Send({"HEAD", key, {}, {}, {}});
  if (absl::Status status = ExpectOk(response, "HEAD " + key); !status.ok()) {
    return status;
  }
  ObjectInfo info;
  for (const auto& [name, value] : response->headers) {
    if (name == "content-length") {
      if (!absl::SimpleAtoi(value, &info.size)) {
        return absl::InternalError("S3 HEAD " + key + ": bad Content-Length");
      }
    } else if (name == "last-modified") {
      const time_t t = curl_getdate(value.c_str(), nullptr);
      info.last_modified = t < 0 ? 0 : t;
    } else if (absl::StartsWith(name, kMetaPrefix)) {
      info.metadata[name.substr(kMetaPrefix.size())] = value;
    }
  }
  return info;
}

absl::Status S3Client::Put(const std::string& key, absl::string_view body,
                           const Headers& headers) {
  return ExpectOk(Send({"PUT", key, {}, headers, body}), "PUT " + key);
}

absl::Status S3Client::Delete(const std::string& key) {
  absl::StatusOr<Response> response = Send({"DELETE", key, {}, {}, {}});
  if (response.ok() && response->status == 404) return absl::OkStatus();
  return ExpectOk(response, "DELETE " + key);
}

absl::Status S3Client::Copy(const std::string& from, const std::string& to,
                            const Headers* metadata) {
  Headers headers;
  if (metadata != nullptr) {
    headers = MetadataHeaders(*metadata);
    headers["x-amz-metadata-directive"] = "REPLACE";
  }
  headers["x-amz-copy-source"] = absl::StrCat(
      "/", UriEncode(options_.bucket, false), "/", UriEncode(from, true));
  return ExpectOk(Send({"PUT", to, {}, headers, {}}), "COPY " + from);
}

absl::Status S3Client::GetRange(const std::string& key, uint64_t first,
                                uint64_t last, std::string* out) {
  Headers headers{{"range", absl::StrCat("bytes=", first, "-", last)}};
  absl::StatusOr<Response> response = Send({"GET", key, {}, headers, {}});
  if (absl::Status status = ExpectOk(response, "GET " + key); !status.ok()) {
    return status;
  }
  if (response->body.size() != last - first + 1) {
    return absl::UnavailableError(absl::StrCat(
        "S3 GET ", key, ": short ranged read (the object changed?)"));
  }
  out->append(response->body);
  return absl::OkStatus();
}

absl::StatusOr<ListPage> S3Client::List(const std::string& prefix,
                                        bool delimited,
                                        const std::string& token, int max_keys,
                                        const std::string& start_after) {
  Request request{"GET", "", {{"list-type", "2"}, {"prefix", prefix}}, {}, {}};
  request.query.emplace_back("max-keys", absl::StrCat(max_keys));
  if (delimited) request.query.emplace_back("delimiter", "/");
  if (!token.empty()) request.query.emplace_back("continuation-token", token);
  if (!start_after.empty())
    request.query.emplace_back("start-after", start_after);
  absl::StatusOr<Response> response = Send(request);
  if (absl::Status status = ExpectOk(response, "LIST " + prefix);
      !status.ok()) {
    return status;
  }
  return ParseListObjectsV2(response->body);
}

absl::StatusOr<std::string> S3Client::CreateMultipart(const std::string& key,
                                                      const Headers& headers) {
  absl::StatusOr<Response> response =
      Send({"POST", key, {{"uploads", ""}}, headers, {}});
  if (absl::Status status = ExpectOk(response, "CreateMultipartUpload " + key);
      !status.ok()) {
    return status;
  }
  return ParseResultField(response->body, "UploadId");
}

absl::StatusOr<std::string> S3Client::UploadPart(const std::string& key,
                                                 const std::string& upload_id,
                                                 int part,
                                                 absl::string_view body) {
  absl::StatusOr<Response> response =
      Send({"PUT",
            key,
            {{"partNumber", absl::StrCat(part)}, {"uploadId", upload_id}},
            {},
            body});
  if (absl::Status status = ExpectOk(response, "UploadPart " + key);
      !status.ok()) {
    return status;
  }
  auto etag = response->headers.find("etag");
  if (etag == response->headers.end()) {
    return absl::InternalError("S3 UploadPart " + key + ": no ETag");
  }
  return etag->second;
}

absl::StatusOr<std::string> S3Client::UploadPartCopy(
    const std::string& key, const std::string& upload_id, int part,
    const std::string& from, uint64_t first, uint64_t last) {
  Headers headers{
      {"x-amz-copy-source", absl::StrCat("/", UriEncode(options_.bucket, false),
                                         "/", UriEncode(from, true))},
      {"x-amz-copy-source-range", absl::StrCat("bytes=", first, "-", last)}};
  absl::StatusOr<Response> response =
      Send({"PUT",
            key,
            {{"partNumber", absl::StrCat(part)}, {"uploadId", upload_id}},
            headers,
            {}});
  if (absl::Status status = ExpectOk(response, "UploadPartCopy " + key);
      !status.ok()) {
    return status;
  }
  return ParseResultField(response->body, "ETag");
}

absl::Status S3Client::CompleteMultipart(
    const std::string& key, const std::string& upload_id,
    const std::vector<std::string>& etags) {
  const std::string body = CompleteMultipartXml(etags);
  return ExpectOk(Send({"POST", key, {{"uploadId", upload_id}}, {}, body}),
                  "CompleteMultipartUpload " + key);
}

absl::Status S3Client::AbortMultipart(const std::string& key,
                                      const std::string& upload_id) {
  absl::StatusOr<Response> response =
      Send({"DELETE", key, {{"uploadId", upload_id}}, {}, {}});
  if (response.ok() && response->status == 404) return absl::OkStatus();
  return ExpectOk(response, "AbortMultipartUpload " + key);
}

absl::StatusOr<UploadsPage> S3Client::ListMultipart(
    const std::string& prefix, const std::string& key_marker,
    const std::string& id_marker) {
  Request request{"GET", "", {{"uploads", ""}, {"prefix", prefix}}, {}, {}};
  if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
  if (!id_marker.empty()) {
    request.query.emplace_back("upload-id-marker", id_marker);
  }
  absl::StatusOr<Response> response = Send(request);
  if (absl::Status status = ExpectOk(response, "ListMultipartUploads");
      !status.ok()) {
    return status;
  }
  return ParseListMultipartUploads(response->body);
}

}  // namespace sftpgate::s3
