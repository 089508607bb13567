// The SSH layer's metrics (names listed in server/common/metrics.h),
// registered in Metrics::Global() on first use and cached: recording one is
// a relaxed atomic operation.
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_SSH_SSH_METRICS_H_
#define SFTPGATE_SERVER_SSH_SSH_METRICS_H_

#include "server/auth/authenticator.h"
#include "server/common/metrics.h"

namespace sftpgate::server {

enum class AuthResult { kOk, kFail, kBanned };

struct SshMetrics {
  Gauge* connections_open;
  Counter* connections_total;
  Counter* rejected_max_sessions;
  Counter* rejected_max_sessions_per_user;
  Counter* rejected_banned;
  Counter* rejected_max_startups;
  Counter* rejected_max_startups_per_source;
  Gauge* sessions_open;
  Counter* sessions_total;
  Counter* auth_bans;
  Gauge* banned_sources;
  Counter* auth_throttle_evictions;
  Counter* bytes_in;
  Counter* bytes_out;

  Counter* auth(AuthMethod method, AuthResult result) const {
    return auth_attempts[static_cast<int>(method)][static_cast<int>(result)];
  }
  Counter* auth_attempts[3][3];  // [AuthMethod][AuthResult]
};

const SshMetrics& GetSshMetrics();

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_SSH_METRICS_H_
