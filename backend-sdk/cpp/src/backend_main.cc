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
