// sftpgate-memory-backend: serves an in-memory filesystem over the
// sftpgate v1 backend contract.
//
//   sftpgate-memory-backend --listen 127.0.0.1:7001 [--capacity BYTES]

#include <unistd.h>

#include <cstdint>

#include "absl/flags/flag.h"
#include "memory_backend.h"
#include "sftpgate/backend_main.h"

ABSL_FLAG(uint64_t, capacity, uint64_t{1} << 30,
          "Most bytes of file contents held (also StatFs's total).");
ABSL_FLAG(uint64_t, max_inodes, uint64_t{1} << 20,
          "Most files, directories and symlinks held.");

int main(int argc, char** argv) {
  sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
      argc, argv,
      "Serves an in-memory filesystem to the sftpgate front end.\n"
      "Usage: sftpgate-memory-backend --listen ADDR [--capacity BYTES]");
  sftpgate::memory::MemoryBackendOptions memory;
  memory.capacity = absl::GetFlag(FLAGS_capacity);
  memory.max_inodes = absl::GetFlag(FLAGS_max_inodes);
  memory.uid = getuid();
  memory.gid = getgid();
  sftpgate::memory::MemoryBackend backend(memory);
  return sftpgate::RunBackend(options, &backend);
}
