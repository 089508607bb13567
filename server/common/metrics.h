// Process-wide metrics, exported in Prometheus text format on
// --metrics-listen (/metrics).
//
// Metrics are created once (typically at startup or on first use) and the
// returned pointers are cached by the caller: looking a metric up takes a
// lock, updating one is a relaxed atomic operation and never blocks, so
// updates are fine on the event-loop hot path. Metric objects live as long
// as the process.
//
// Thread safety: every class and function here is thread-safe.

#ifndef SFTPGATE_SERVER_COMMON_METRICS_H_
#define SFTPGATE_SERVER_COMMON_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace sftpgate::server {

// Label names and values of one series, e.g. {{"op", "READ"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// A monotonically increasing count.
class Counter {
 public:
  void Increment(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (sessions open, requests in flight).
class Gauge {
 public:
  void Add(int64_t delta) {
    value_.fetch_add(delta, std::memory_order_relaxed);
  }
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// A distribution of durations in seconds over fixed buckets.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double seconds);
  // Cumulative counts per bucket (same order as upper_bounds, then +Inf),
  // the number of observations and their sum.
  std::vector<uint64_t> CumulativeCounts() const;
  uint64_t count() const;
  double sum() const;
  const std::vector<double>& upper_bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

// The registry. Get* returns the same object for the same name and labels;
// `help` is taken from the first call. Names follow Prometheus rules
// ("sftpgate_sessions_open"). A name registered as one kind and asked for
// as another (or labels with a different set of names) gets a detached
// object that is not exported, rather than a crash.
//
// The series the front end exports (keep names and labels consistent):
//   SSH layer (server/ssh):
//     sftpgate_connections_open / _total          SSH connections
//     sftpgate_connections_rejected_total{reason} max_sessions,
//         max_sessions_per_user, banned, max_startups,
//         max_startups_per_source
//     sftpgate_sessions_open / _total             authenticated ones
//     sftpgate_auth_attempts_total{method,result} result: ok|fail|banned
//     sftpgate_auth_bans_total
//     sftpgate_auth_banned_sources                networks banned now
//     sftpgate_auth_throttle_evictions_total
//     sftpgate_channel_bytes_total{direction}     in|out, SFTP payload
//     sftpgate_backend_up{target}                 1: channel READY
//     sftpgate_backend_state{target}              grpc_connectivity_state
//     sftpgate_authenticator_up{target}           with --auth
//   SFTP layer (server/sftp), per operation:
//     sftpgate_operations_total{op,status}        op: OPEN, READ, ...;
//                                                 status: SFTP status name
//     sftpgate_backend_call_seconds{method}       histogram, gRPC method
//     sftpgate_requests_in_flight                 gauge
class Metrics {
 public:
  static Metrics& Global();

  // A separate registry (tests); the process uses Global().
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  Counter* GetCounter(absl::string_view name, absl::string_view help,
                      const MetricLabels& labels = {});
  Gauge* GetGauge(absl::string_view name, absl::string_view help,
                  const MetricLabels& labels = {});
  // Default buckets suit backend call latencies: 100 us .. 10 s.
  Histogram* GetHistogram(absl::string_view name, absl::string_view help,
                          const MetricLabels& labels = {});

  // Every series in Prometheus text exposition format (version 0.0.4).
  std::string RenderPrometheus() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_METRICS_H_
