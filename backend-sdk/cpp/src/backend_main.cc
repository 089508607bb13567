#include "sftpgate/backend_main.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "sftpgate/command_line.h"
#include "sftpgate/process_tuning.h"

ABSL_FLAG(std::string, listen, "",
          "Address to serve on: host:port (port 0 picks a free one) or "
          "unix:/path. Required.");
ABSL_FLAG(int, threads, 0,
          "Most worker threads for gRPC's server (0: gRPC's default).");
ABSL_FLAG(uint32_t, chunk_size, 256 * 1024,
          "Preferred read/write chunk payload, bytes.");
ABSL_FLAG(uint32_t, max_chunk_size, 1024 * 1024,
          "Largest chunk payload accepted or sent, bytes.");
ABSL_FLAG(uint32_t, list_batch_size, 512,
          "Directory entries per ListDir message.");
ABSL_FLAG(std::string, tls_cert, "",
          "Mutual TLS: this backend's certificate chain (PEM). With "
          "--tls_key and --tls_client_ca; callers without a certificate "
          "from that CA get nothing.");
ABSL_FLAG(std::string, tls_key, "", "Mutual TLS: the private key (PEM).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Mutual TLS: the CA (PEM) the front end's certificate must chain "
          "to.");
ABSL_FLAG(std::string, socket_mode, "0600",
          "Permissions of the unix socket (--listen=unix:PATH), octal: 0600 "
          "(this user only) or 0660 (and its group).");
ABSL_FLAG(int, shutdown_grace_ms, 2000,
          "On SIGTERM/SIGINT: how long calls in flight may finish before "
          "they are cancelled (uploads still running then abort).");

namespace sftpgate {

ServeOptions ParseBackendFlags(int argc, char** argv, absl::string_view usage) {
  const ProgramInfo program{ProgramName(argc, argv), std::string(usage)};
  // Measured: less CPU per transferred byte (see process_tuning.h).
  TuneProcessForTransfers();
  auto UsageError = [&program](absl::string_view message) {
    ExitWithUsageError(program, message);
  };
  std::vector<std::string> rest = ParseCommandLineOrExit(argc, argv, program);
  if (!rest.empty()) {
    UsageError(absl::StrCat("unexpected argument \"", rest[0], "\""));
  }
  ServeOptions options;
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.threads = absl::GetFlag(FLAGS_threads);
  options.preferred_chunk_size = absl::GetFlag(FLAGS_chunk_size);
  options.max_chunk_size = absl::GetFlag(FLAGS_max_chunk_size);
  options.list_batch_size = absl::GetFlag(FLAGS_list_batch_size);
  options.shutdown_grace_ms = absl::GetFlag(FLAGS_shutdown_grace_ms);
  options.tls.cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls.key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls.ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  const std::string mode = absl::GetFlag(FLAGS_socket_mode);
  char* end = nullptr;
  options.unix_socket_mode =
      static_cast<int>(std::strtol(mode.c_str(), &end, 8));
  if (mode.empty() || *end != '\0' || options.unix_socket_mode > 0777) {
    UsageError("--socket_mode must be octal permission bits, e.g. 0600");
  }
  if (options.listen_address.empty()) UsageError("--listen is required");
  if (options.threads < 0) UsageError("--threads must be >= 0");
  if (options.shutdown_grace_ms < 0) {
    UsageError("--shutdown-grace-ms must be >= 0");
  }
  if (options.preferred_chunk_size == 0 ||
      options.preferred_chunk_size > options.max_chunk_size) {
    UsageError("need 0 < --chunk-size <= --max-chunk-size");
  }
  if (options.max_chunk_size > (1u << 30)) {
    UsageError("--max-chunk-size must be at most 1 GiB");
  }
  if (options.list_batch_size == 0) UsageError("--list-batch-size must be > 0");
  return options;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  return 1;
}

}  // namespace sftpgate
