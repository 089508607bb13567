// MetricsServer: the small HTTP endpoint of --metrics-listen, on its own
// thread (cpp-httplib):
//
//   GET /metrics   every metric in Prometheus text format (0.0.4)
//   GET /healthz   200 "ok" while the server takes connections, 503
//                  "unavailable" otherwise (e.g. draining after SIGTERM),
//                  so a load balancer stops sending new clients
//
// Thread safety: Listen(), Start() and Stop() from one controlling thread;
// requests are served on the server's own threads.

#ifndef SFTPGATE_SERVER_METRICS_HTTP_METRICS_SERVER_H_
#define SFTPGATE_SERVER_METRICS_HTTP_METRICS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "server/common/metrics.h"

namespace httplib {
class Server;
}

namespace sftpgate::server {

class MetricsServer {
 public:
  // `metrics` must outlive the server; `healthy` answers /healthz and may
  // be called from the server's threads.
  MetricsServer(const Metrics* metrics, std::function<bool()> healthy);
  // Stop().
  ~MetricsServer();

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds `host`:`port` (0: any free port). Before dropping privileges.
  absl::Status Listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }
  // Serves on a thread of its own until Stop().
  void Start();
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_METRICS_HTTP_METRICS_SERVER_H_
