#include "server/metrics_http/metrics_server.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace sftpgate::server {
namespace {

// Scrapes are rare and small: two workers, one request per connection, and
// short timeouts so a stuck client cannot hold a worker.
constexpr size_t kWorkers = 2;
constexpr time_t kTimeoutSeconds = 5;

}  // namespace

MetricsServer::MetricsServer(const Metrics* metrics,
                             std::function<bool()> healthy)
    : http_(std::make_unique<httplib::Server>()) {
  http_->new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  http_->set_keep_alive_max_count(1);
  http_->set_read_timeout(kTimeoutSeconds, 0);
  http_->set_write_timeout(kTimeoutSeconds, 0);
  http_->Get("/metrics",
             [metrics](const httplib::Request&, httplib::Response& response) {
               response.set_content(metrics->RenderPrometheus(),
                                    "text/plain; version=0.0.4; charset=utf-8");
             });
  http_->Get(
      "/healthz", [healthy = std::move(healthy)](const httplib::Request&,
                                                 httplib::Response& response) {
        bool ok = healthy();
        response.status = ok ? 200 : 503;
        response.set_content(ok ? "ok\n" : "unavailable\n", "text/plain");
      });
}

MetricsServer::~MetricsServer() { Stop(); }

absl::Status MetricsServer::Listen(const std::string& host, uint16_t port) {
  if (port == 0) {
    int bound = http_->bind_to_any_port(host);
    if (bound > 0) port_ = static_cast<uint16_t>(bound);
  } else if (http_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, " for metrics"));
  }
  return absl::OkStatus();
}

void MetricsServer::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sftpgate-http");
    http_->listen_after_bind();
  });
}

void MetricsServer::Stop() {
  if (!thread_.joinable()) return;
  http_->stop();
  thread_.join();
}

}  // namespace sftpgate::server
