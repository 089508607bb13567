#include "server/metrics_http/backend_health.h"

#include <pthread.h>

#include "absl/strings/str_cat.h"

namespace sftpgate::server {

BackendHealthPoller::BackendHealthPoller(
    Metrics* metrics, std::function<std::vector<WatchedChannel>()> channels,
    absl::Duration interval)
    : metrics_(metrics), channels_(std::move(channels)), interval_(interval) {}

BackendHealthPoller::~BackendHealthPoller() { Stop(); }

void BackendHealthPoller::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sftpgate-health");
    do {
      PollOnce();
    } while (!stop_.WaitForNotificationWithTimeout(interval_));
  });
}

void BackendHealthPoller::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

void BackendHealthPoller::PollOnce() {
  for (const WatchedChannel& watched : channels_()) {
    grpc_connectivity_state state =
        watched.channel->GetState(/*try_to_connect=*/true);
    const MetricLabels labels = {{"target", watched.target}};
    metrics_
        ->GetGauge(absl::StrCat("sftpgate_", watched.kind, "_up"),
                   absl::StrCat("1 while the ", watched.kind,
                                "'s gRPC channel is READY"),
                   labels)
        ->Set(state == GRPC_CHANNEL_READY ? 1 : 0);
    metrics_
        ->GetGauge(absl::StrCat("sftpgate_", watched.kind, "_state"),
                   absl::StrCat("Connectivity state of the ", watched.kind,
                                "'s gRPC channel: 0 idle, 1 connecting, 2 "
                                "ready, 3 transient failure, 4 shutdown"),
                   labels)
        ->Set(static_cast<int64_t>(state));
  }
}

}  // namespace sftpgate::server
