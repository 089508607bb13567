// BackendHealthPoller: a gauge per gRPC target from its channel's
// connectivity state, polled on a thread of its own.
//
//   sftpgate_backend_up{target}     1 while the channel is READY, else 0
//   sftpgate_backend_state{target}  grpc_connectivity_state: 0 idle,
//                                   1 connecting, 2 ready,
//                                   3 transient failure, 4 shutdown
// (sftpgate_authenticator_up/_state for the --auth channel.)
//
// Polling asks idle channels to connect, so a backend nobody uses yet is
// still reported truthfully.
//
// Thread safety: Start() and Stop() from one controlling thread.

#ifndef SFTPGATE_SERVER_METRICS_HTTP_BACKEND_HEALTH_H_
#define SFTPGATE_SERVER_METRICS_HTTP_BACKEND_HEALTH_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "server/common/metrics.h"

namespace sftpgate::server {

struct WatchedChannel {
  std::string kind;    // "backend" or "authenticator": the metric prefix
  std::string target;  // the label
  std::shared_ptr<grpc::Channel> channel;
};

class BackendHealthPoller {
 public:
  // `channels` is called on every poll (thread-safe callers only): the set
  // may grow as routes are used.
  BackendHealthPoller(Metrics* metrics,
                      std::function<std::vector<WatchedChannel>()> channels,
                      absl::Duration interval);
  // Stop().
  ~BackendHealthPoller();

  void Start();
  // Idempotent.
  void Stop();
  // One poll, on the caller's thread (also what the thread does).
  void PollOnce();

 private:
  Metrics* const metrics_;
  const std::function<std::vector<WatchedChannel>()> channels_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_METRICS_HTTP_BACKEND_HEALTH_H_
