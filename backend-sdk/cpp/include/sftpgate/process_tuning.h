// Process-wide settings for programs that stream file data through gRPC:
// the front end and C++ backend binaries (ParseBackendFlags calls it).
//
// Thread safety: call once, at the start of main(), before other threads
// start.

#ifndef SFTPGATE_PROCESS_TUNING_H_
#define SFTPGATE_PROCESS_TUNING_H_

namespace sftpgate {

// Applies two settings, both measured (docs/benchmarks.md, Analysis):
//  - Turns off Abseil's mutex deadlock detection. Debian builds Abseil
//    without NDEBUG, which leaves it on: every lock, gRPC's included, then
//    updates a global lock graph.
//  - Keeps transfer-sized blocks (up to 1.25 MiB) in malloc's arenas and
//    lets each arena keep 16 MiB free. glibc's defaults serve blocks over
//    128 KiB with mmap and return free arena tops to the kernel, so every
//    chunk gRPC read landed on fresh pages (a fault and zeroing per page).
//    The cost is some more peak RSS; the gain is in docs/benchmarks.md.
void TuneProcessForTransfers();

}  // namespace sftpgate

#endif  // SFTPGATE_PROCESS_TUNING_H_
