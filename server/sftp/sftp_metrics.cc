#include "server/sftp/sftp_metrics.h"

#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

constexpr char kBytes[] = "sftpgate_bytes_total";
constexpr char kBytesHelp[] =
    "File payload bytes: read (DATA sent to clients), write (WRITE data "
    "taken from clients)";

}  // namespace

SftpMetrics& SftpMetrics::Get() {
  static SftpMetrics* const metrics = new SftpMetrics(&Metrics::Global());
  return *metrics;
}

SftpMetrics::SftpMetrics(Metrics* registry)
    : registry_(registry),
      requests_in_flight_(
          registry->GetGauge("sftpgate_requests_in_flight",
                             "SFTP requests received and not yet answered")),
      bytes_read_(
          registry->GetCounter(kBytes, kBytesHelp, {{"direction", "read"}})),
      bytes_written_(
          registry->GetCounter(kBytes, kBytesHelp, {{"direction", "write"}})) {}

void SftpMetrics::CountOperation(int slot, const char* op, uint32_t status) {
  if (slot < 0 || slot >= kMaxOpSlots) return;
  const int s =
      status < kStatusSlots - 1 ? static_cast<int>(status) : kStatusSlots - 1;
  std::atomic<Counter*>& cached = operations_[slot][s];
  Counter* counter = cached.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = registry_->GetCounter(
        "sftpgate_operations_total", "SFTP requests answered, by status",
        {{"op", op}, {"status", StatusCodeLabel(s)}});
    cached.store(counter, std::memory_order_release);
  }
  counter->Increment();
}

}  // namespace sftpgate::server::sftp
