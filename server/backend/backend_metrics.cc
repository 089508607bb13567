#include "server/backend/backend_metrics.h"

#include <string>

namespace sftpgate::server::backend {

Histogram* BackendCallHistogramFor(absl::string_view method) {
  return Metrics::Global().GetHistogram(
      "sftpgate_backend_call_seconds",
      "Backend calls from start to end (streams: their whole life)",
      {{"method", std::string(method)}});
}

Gauge* BackendStreamsOpenFor(absl::string_view method) {
  return Metrics::Global().GetGauge(
      "sftpgate_backend_streams_open",
      "Server-streaming backend calls (Read, ListDir) not yet ended",
      {{"method", std::string(method)}});
}

}  // namespace sftpgate::server::backend
