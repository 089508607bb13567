// SftpMetrics: the SFTP layer's series (see the list in
// server/common/metrics.h), registered in Metrics::Global():
//
//   sftpgate_operations_total{op,status}   answered requests; op: OPEN,
//                                          READ, posix-rename@openssh.com,
//                                          ...; status: ok, eof,
//                                          no_such_file, ..., other
//   sftpgate_requests_in_flight            requests being served
//   sftpgate_bytes_total{direction}        file payload: read (sent to
//                                          clients in DATA) and write
//                                          (taken from WRITE requests)
//
// Every pointer is looked up once and cached (the registry takes a lock;
// updates are relaxed atomics), so recording is cheap on the loop thread:
// operation counters are cached per (op slot, status). The backend call
// histogram is server/backend/backend_metrics.h's.
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_SFTP_SFTP_METRICS_H_
#define SFTPGATE_SERVER_SFTP_SFTP_METRICS_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "server/common/metrics.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {

class SftpMetrics {
 public:
  // Operation slots: small dense numbers the session assigns to its
  // request types (one per op name), at most kMaxOpSlots. SFTP requests
  // and extensions take the first kSftpOpSlots from 0 up; exec commands
  // (scp, the checksum tools) the last kExecOpSlots, from the top down.
  static constexpr int kMaxOpSlots = 64;
  static constexpr int kExecOpSlots = 8;
  static constexpr int kSftpOpSlots = kMaxOpSlots - kExecOpSlots;

  // The process-wide instance, on Metrics::Global().
  static SftpMetrics& Get();

  explicit SftpMetrics(Metrics* registry);
  SftpMetrics(const SftpMetrics&) = delete;
  SftpMetrics& operator=(const SftpMetrics&) = delete;

  // Counts one answered request. `slot` (< kMaxOpSlots) must always come
  // with the same `op` name; `status` is an SFTP status code.
  void CountOperation(int slot, const char* op, uint32_t status);

  Gauge* requests_in_flight() const { return requests_in_flight_; }
  Counter* bytes_read() const { return bytes_read_; }
  Counter* bytes_written() const { return bytes_written_; }

 private:
  // Codes 0..kFxOpUnsupported, then "other".
  static constexpr int kStatusSlots = kFxOpUnsupported + 2;

  Metrics* const registry_;
  Gauge* const requests_in_flight_;
  Counter* const bytes_read_;
  Counter* const bytes_written_;
  // Filled on first use of each (slot, status); racing first uses store
  // the same pointer (the registry returns one object per series).
  std::atomic<Counter*> operations_[kMaxOpSlots][kStatusSlots] = {};
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_SFTP_METRICS_H_
