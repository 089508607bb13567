// The shared command line of backend programs, so that every sample
// backend's main() reads the same flags the same way:
//
//   ABSL_FLAG(uint64_t, capacity, 1 << 30, "...");   // backend's own flags
//   int main(int argc, char** argv) {
//     sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
//         argc, argv, "Usage: my-backend --listen ADDR [flags]");
//     MyBackend backend(absl::GetFlag(FLAGS_capacity));
//     return sftpgate::RunBackend(options, &backend);
//   }
//
// Common flags: --listen (host:port or unix:/path, required),
// --threads, --chunk-size, --max-chunk-size, --list-batch-size,
// --shutdown-grace-ms. Backends define their own flags with ABSL_FLAG; all
// are parsed together, as command_line.h describes (dashes or
// underscores, --help listing every flag with its default).
//
// Thread safety: call from main() before starting threads.

#ifndef SFTPGATE_BACKEND_MAIN_H_
#define SFTPGATE_BACKEND_MAIN_H_

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "sftpgate/command_line.h"
#include "sftpgate/server.h"

namespace sftpgate {

// Parses the command line (common and backend-defined flags) and returns
// the ServeOptions of the common ones. Never returns on bad input: an
// unknown or malformed flag, a positional argument, a missing --listen or
// inconsistent sizes print the error and a pointer to --help and exit with
// status 2 (kExitUsage); --help prints `usage` and every flag with its
// default and exits 0. Messages name the program as argv[0]'s base name.
// Also applies TuneProcessForTransfers() (process_tuning.h): call it first
// in main().
ServeOptions ParseBackendFlags(int argc, char** argv, absl::string_view usage);

// Returns the exit code for `status`: 0 when OK; otherwise prints the
// status to stderr and returns 1.
int ExitCodeFor(const absl::Status& status);

// Serves `backend` until SIGINT/SIGTERM (ServeBackend) and returns the
// process exit code: 0 after a clean shutdown, 1 if it could not start.
template <typename B>
int RunBackend(const ServeOptions& options, B* backend) {
  return ExitCodeFor(ServeBackend(options, backend));
}

}  // namespace sftpgate

#endif  // SFTPGATE_BACKEND_MAIN_H_
