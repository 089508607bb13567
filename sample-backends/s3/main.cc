// sftpgate-s3-backend: serves one bucket (optionally beneath a key prefix)
// of an S3-compatible store to the sftpgate front end over gRPC.
//
//   export AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
//   sftpgate-s3-backend --endpoint https://s3.eu-west-1.amazonaws.com
//       --region eu-west-1 --bucket files --listen 127.0.0.1:7000
//
// Credentials come from the environment or a shared credentials file
// (credentials.h), never from flags. Before serving, the backend checks
// that the store answers, takes the credentials and has the bucket, and
// aborts multipart uploads an earlier run of this replica left open
// (upload_journal.h); any failure is one line on stderr and exit 1.
// See docs/s3.md.

#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "credentials.h"
#include "s3_backend.h"
#include "s3_client.h"
#include "sftpgate/backend_main.h"
#include "upload_journal.h"

ABSL_FLAG(std::string, endpoint, "",
          "S3 endpoint URL, e.g. https://s3.eu-west-1.amazonaws.com "
          "(required).");
ABSL_FLAG(std::string, region, "us-east-1", "Region used in signatures.");
ABSL_FLAG(std::string, bucket, "", "Bucket to serve (required).");
ABSL_FLAG(std::string, prefix, "",
          "Key prefix to serve beneath (e.g. 'sftp/'); sessions see it as "
          "the top of the tree.");
ABSL_FLAG(std::string, addressing, "path",
          "'path' (https://host/bucket/key) or 'virtual' "
          "(https://bucket.host/key).");
ABSL_FLAG(uint32_t, part_size_mb, 8,
          "Multipart upload part size, MiB (5..5120). Files below it are one "
          "PUT; one part per upload is held in memory.");
ABSL_FLAG(uint32_t, read_buffer_kb, 1024,
          "Most bytes buffered per read stream, KiB.");
ABSL_FLAG(std::string, ca_file, "", "CA bundle for TLS (default: system).");
ABSL_FLAG(bool, tls_verify, true, "Verify the store's TLS certificate.");
ABSL_FLAG(std::string, profile, "",
          "Profile in the shared credentials file (default: AWS_PROFILE, "
          "else 'default'); set it to ignore AWS_ACCESS_KEY_ID.");
ABSL_FLAG(std::string, replica_id, "",
          "Stable name of this replica among those sharing the bucket "
          "(default: hostname and --listen). After a crash the replica "
          "restarted with the same id aborts the uploads it left open.");
ABSL_FLAG(bool, strict_setstat, false,
          "Fail SETSTAT of owner/group (S3 keeps neither) with "
          "OP_UNSUPPORTED instead of ignoring it.");
ABSL_FLAG(int, max_rename_keys, 1000,
          "Most objects a directory rename copies; larger ones are "
          "refused.");

namespace {

[[noreturn]] void Fail(int code, const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(code);
}

// One clear line for what went wrong when first talking to the store.
std::string ProbeFailure(const absl::Status& status,
                         const sftpgate::s3::StoreOptions& store) {
  const std::string detail(status.message());
  if (absl::IsUnavailable(status)) {
    return absl::StrCat("cannot reach the S3 endpoint: ", detail);
  }
  if (absl::StrContains(detail, "NoSuchBucket")) {
    return absl::StrCat("bucket '", store.bucket, "' does not exist at ",
                        store.endpoint);
  }
  if (absl::IsPermissionDenied(status)) {
    return absl::StrCat("the store refused the credentials from ",
                        store.credentials.source, ": ", detail);
  }
  return absl::StrCat("the store rejected the first request: ", detail);
}

}  // namespace

int main(int argc, char** argv) {
  sftpgate::ServeOptions serve = sftpgate::ParseBackendFlags(
      argc, argv,
      "Usage: sftpgate-s3-backend --endpoint URL --bucket NAME --listen ADDR "
      "[flags]\nCredentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or a "
      "shared credentials file.");
  if (absl::GetFlag(FLAGS_endpoint).empty()) Fail(2, "--endpoint is required");
  if (absl::GetFlag(FLAGS_bucket).empty()) Fail(2, "--bucket is required");
  const std::string addressing = absl::GetFlag(FLAGS_addressing);
  if (addressing != "path" && addressing != "virtual") {
    Fail(2, "--addressing must be 'path' or 'virtual'");
  }
  const uint32_t part_mb = absl::GetFlag(FLAGS_part_size_mb);
  if (part_mb < 5 || part_mb > 5120) Fail(2, "--part_size_mb must be 5..5120");
  if (absl::GetFlag(FLAGS_read_buffer_kb) == 0) {
    Fail(2, "--read_buffer_kb must be > 0");
  }
  if (absl::GetFlag(FLAGS_max_rename_keys) < 0) {
    Fail(2, "--max_rename_keys must be >= 0");
  }
  std::string prefix = absl::GetFlag(FLAGS_prefix);
  if (absl::StartsWith(prefix, "/")) Fail(2, "--prefix must not start with /");
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');

  absl::StatusOr<sftpgate::s3::Credentials> credentials =
      sftpgate::s3::LoadCredentials(absl::GetFlag(FLAGS_profile));
  if (!credentials.ok()) Fail(1, std::string(credentials.status().message()));

  sftpgate::s3::StoreOptions store;
  store.endpoint = absl::GetFlag(FLAGS_endpoint);
  store.region = absl::GetFlag(FLAGS_region);
  store.bucket = absl::GetFlag(FLAGS_bucket);
  store.path_style = addressing == "path";
  store.ca_file = absl::GetFlag(FLAGS_ca_file);
  store.verify_tls = absl::GetFlag(FLAGS_tls_verify);
  store.credentials = *std::move(credentials);
  absl::StatusOr<std::unique_ptr<sftpgate::s3::S3Client>> client =
      sftpgate::s3::S3Client::Create(store);
  if (!client.ok()) Fail(2, std::string(client.status().message()));

  // One listing proves the endpoint, the credentials and the bucket.
  absl::StatusOr<sftpgate::s3::ListPage> probe =
      (*client)->List(prefix, true, "", 1);
  if (!probe.ok()) Fail(1, ProbeFailure(probe.status(), store));

  std::string replica_id = absl::GetFlag(FLAGS_replica_id);
  if (replica_id.empty()) {
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    replica_id = absl::StrCat(host, "-", serve.listen_address);
  }
  sftpgate::s3::UploadJournal journal(client->get(), prefix, replica_id);
  absl::StatusOr<int> aborted = journal.AbortLeftovers();
  if (!aborted.ok()) {
    Fail(1, absl::StrCat("cannot clear this replica's earlier uploads: ",
                         aborted.status().message()));
  }
  std::fprintf(stderr,
               "s3 backend: bucket %s%s%s at %s, replica %s, credentials "
               "from %s; aborted %d upload(s) left by an earlier run\n",
               store.bucket.c_str(), prefix.empty() ? "" : "/", prefix.c_str(),
               store.endpoint.c_str(), replica_id.c_str(),
               store.credentials.source.c_str(), *aborted);

  // A writer waits on each part upload: keep the transport's window small
  // so that an upload's memory stays one part (see ServeOptions).
  serve.http2_bdp_probe = false;
  sftpgate::s3::BackendOptions options;
  options.prefix = prefix;
  options.part_size = uint64_t{part_mb} << 20;
  options.read_buffer = size_t{absl::GetFlag(FLAGS_read_buffer_kb)} << 10;
  options.strict_setstat = absl::GetFlag(FLAGS_strict_setstat);
  options.max_rename_keys = absl::GetFlag(FLAGS_max_rename_keys);
  sftpgate::s3::S3Backend backend(client->get(), &journal, options);
  return sftpgate::RunBackend(serve, &backend);
}
