// The backend call histogram, sftpgate_backend_call_seconds{method}:
// unary calls from start to completion; streams (Read, Write, ListDir)
// over their whole life. And the gauge of server-streaming calls (Read,
// ListDir) not yet ended, sftpgate_backend_streams_open{method}: a leaked
// stream shows there. Registered in Metrics::Global().
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_BACKEND_BACKEND_METRICS_H_
#define SFTPGATE_SERVER_BACKEND_BACKEND_METRICS_H_

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "server/common/metrics.h"

namespace sftpgate::server::backend {

// The histogram of gRPC method `method` ("Stat", "Read"). Looks up the
// registry: callers cache the pointer.
Histogram* BackendCallHistogramFor(absl::string_view method);

// The open-streams gauge of gRPC method `method` ("Read", "ListDir").
Gauge* BackendStreamsOpenFor(absl::string_view method);

// The gRPC method whose request message is `Req` ("StatRequest" -> "Stat").
template <typename Req>
absl::string_view BackendMethodOf() {
  absl::string_view name = Req::descriptor()->name();
  if (absl::EndsWith(name, "Request")) name.remove_suffix(7);
  return name;
}

// The histogram of the method whose request message is `Req`, looked up
// once per request type.
template <typename Req>
Histogram* BackendCallHistogram() {
  static Histogram* const histogram =
      BackendCallHistogramFor(BackendMethodOf<Req>());
  return histogram;
}

// The open-streams gauge of the method whose request message is `Req`.
template <typename Req>
Gauge* BackendStreamsOpen() {
  static Gauge* const gauge = BackendStreamsOpenFor(BackendMethodOf<Req>());
  return gauge;
}

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_BACKEND_METRICS_H_
