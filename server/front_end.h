// FrontEnd: the running sftpgate server, assembled from its settings: the
// authenticators, throttles, backend channels and the SSH listener, with
// the process-level operations main() drives (start in two phases around
// dropping privileges, reload on SIGHUP, drain and stop).
//
// Thread safety: every method from the one controlling (main) thread.

#ifndef SFTPGATE_SERVER_FRONT_END_H_
#define SFTPGATE_SERVER_FRONT_END_H_

#include <libssh/libssh.h>

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "server/auth/auth_throttle.h"
#include "server/auth/chain_authenticator.h"
#include "server/auth/grpc_authenticator.h"
#include "server/auth/local_authenticator.h"
#include "server/auth/session_counter.h"
#include "server/auth/startup_limiter.h"
#include "server/common/worker_pool.h"
#include "server/config/settings.h"
#include "server/config/users.h"
#include "server/events/event_publisher.h"
#include "server/metrics_http/backend_health.h"
#include "server/metrics_http/metrics_server.h"
#include "server/ssh/backend_router.h"
#include "server/ssh/server_context.h"
#include "server/ssh/ssh_server.h"
#include "sftpgate/grpc_tls.h"

namespace sftpgate::server {

class FrontEnd {
 public:
  // `settings` must be valid (ValidateSettings); `users` and `host_key`
  // (owned from now on) are the files they name, already loaded.
  FrontEnd(Settings settings, UserDb users, ssh_key host_key);
  ~FrontEnd();

  FrontEnd(const FrontEnd&) = delete;
  FrontEnd& operator=(const FrontEnd&) = delete;

  // Phase 1, with the privileges the process started with: binds the
  // listening port (and the metrics port). Starts no thread.
  absl::Status Listen();
  // Phase 2, after privileges were dropped: starts the authentication
  // workers, the delegated authenticator's and the backends' channels, the
  // event loops and the acceptor, the metrics endpoint and the backend
  // health poller, and logs "started".
  absl::Status Start();

  // Connections currently open.
  int LiveConnections() const;
  // SIGHUP: re-reads the users file and the host key. Open sessions are
  // not touched; new logins use the new files. A file that fails to load
  // is logged (reload_failed) and the old one kept.
  void Reload();
  // SIGTERM: stops accepting new connections (and /healthz says so); every
  // open connection ends as soon as it is quiet (transfers in progress
  // finish first).
  void Drain();
  // Ends every connection (unfinished uploads are aborted) and every
  // thread. Idempotent.
  void Stop();

 private:
  // The gRPC channels whose health is exported.
  std::vector<WatchedChannel> WatchedChannels() const;
  // Reads the TLS files of the backend and authenticator channels (in
  // Listen(): before privileges are dropped, as the host key is).
  absl::Status LoadChannelCredentials();

  const Settings settings_;
  std::optional<UserDb> initial_users_;  // until Start() builds the auth
  std::unique_ptr<WorkerPool> auth_pool_;
  std::unique_ptr<LocalAuthenticator> local_auth_;
  std::unique_ptr<GrpcAuthenticator> grpc_auth_;  // with --auth only
  std::unique_ptr<ChainAuthenticator> auth_;
  std::unique_ptr<BackendRouter> backends_;
  std::unique_ptr<EventPublisher> events_;  // with --events only
  // Null: plaintext (unix sockets).
  std::shared_ptr<grpc::ChannelCredentials> backend_credentials_;
  std::shared_ptr<grpc::ChannelCredentials> auth_credentials_;
  std::shared_ptr<grpc::ChannelCredentials> events_credentials_;
  bool credentials_loaded_ = false;
  AuthThrottle throttle_;
  SessionCounter user_sessions_;
  UserRateLimits rate_limits_;
  sftp::QuotaLedgers quota_ledgers_;
  StartupLimiter startups_;
  ServerContext context_;
  std::unique_ptr<SshServer> server_;
  std::unique_ptr<MetricsServer> metrics_;  // with --metrics-listen only
  std::unique_ptr<BackendHealthPoller> health_;
  std::atomic<bool> serving_{false};  // for /healthz
};

// The settings of one part of the front end.
SourceGrouping SourceGroupingFromSettings(const Settings& settings);
AuthThrottleOptions AuthThrottleOptionsFromSettings(const Settings& settings);
ConnectionLimits ConnectionLimitsFromSettings(const Settings& settings);
// Requires settings.events (grpc:TARGET).
EventPublisherOptions EventPublisherOptionsFromSettings(
    const Settings& settings);
// absl::InvalidArgumentError for a bad --listen.
absl::StatusOr<SshServerOptions> SshServerOptionsFromSettings(
    const Settings& settings);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_FRONT_END_H_
