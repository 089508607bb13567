// What every connection of one SshServer shares: the authenticator, the
// throttles, the backend routes, limits and the live-connection count. Built
// once at startup; the pointed-to objects are thread-safe.

#ifndef SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_
#define SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "server/auth/auth_throttle.h"
#include "server/auth/authenticator.h"
#include "server/auth/session_counter.h"
#include "server/auth/startup_limiter.h"
#include "server/events/event_sink.h"
#include "server/sftp/quota_ledger.h"
#include "server/sftp/sftp_session.h"
#include "server/ssh/backend_router.h"
#include "server/ssh/user_rate_limits.h"

namespace sftpgate::server {

struct ConnectionLimits {
  // Failed authentication attempts before the connection is closed.
  int max_auth_tries = 6;
  // Time from accept to successful authentication.
  absl::Duration login_grace = absl::Seconds(30);
  // Session channels open at once on one connection.
  int max_channels = 10;
  // An authenticated connection with no SFTP request in flight and no
  // channel traffic for this long is closed; zero disables.
  absl::Duration idle_timeout = absl::Seconds(900);
  // How long a connection from a banned address is held before it is
  // closed (slows a brute-force client down without doing any work).
  absl::Duration ban_delay = absl::Seconds(1);
  // While draining, a connection ends once it has had no SFTP request in
  // flight and no channel traffic for this long: a transfer in progress
  // (requests keep coming) finishes first, an idle session goes at once.
  absl::Duration drain_quiet = absl::Seconds(1);
  // Output bytes handed to libssh per channel and loop round; libssh
  // sends them with one blocking send() (see sftp_channel.cc).
  size_t max_write_per_round = 256 * 1024;
};

struct ServerContext {
  Authenticator* auth = nullptr;            // not owned
  AuthThrottle* throttle = nullptr;         // not owned; null: no throttling
  SessionCounter* user_sessions = nullptr;  // not owned; null: no limit
  StartupLimiter* startups = nullptr;       // not owned; null: no limit
  BackendRouter* backends = nullptr;        // not owned
  EventSink* events = nullptr;              // not owned; null: no events
  UserRateLimits* rate_limits = nullptr;    // not owned; null: unlimited
  // Not owned; null: each session accounts its own uploads only.
  sftp::QuotaLedgers* quota_ledgers = nullptr;
  SftpLimits sftp_limits;
  // Shared by every session's transfers (setting transfer_buffer_total_mb).
  std::shared_ptr<backend::TransferBudget> transfer_budget;
  ConnectionLimits limits;
  // Connections accepted and not yet torn down (the acceptor increments,
  // the owning loop decrements).
  std::atomic<int> live_connections{0};
  // Set on SIGTERM: every connection ends as soon as it is quiet (see
  // ConnectionLimits::drain_quiet).
  std::atomic<bool> draining{false};
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_
