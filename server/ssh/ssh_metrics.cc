#include "server/ssh/ssh_metrics.h"

namespace sftpgate::server {
namespace {

SshMetrics Register(Metrics& m) {
  SshMetrics s;
  s.connections_open =
      m.GetGauge("sftpgate_connections_open",
                 "SSH connections open (authenticated or not)");
  s.connections_total =
      m.GetCounter("sftpgate_connections_total", "SSH connections accepted");
  constexpr char kRejected[] = "sftpgate_connections_rejected_total";
  constexpr char kRejectedHelp[] = "SSH connections refused, by reason";
  s.rejected_max_sessions =
      m.GetCounter(kRejected, kRejectedHelp, {{"reason", "max_sessions"}});
  s.rejected_max_sessions_per_user = m.GetCounter(
      kRejected, kRejectedHelp, {{"reason", "max_sessions_per_user"}});
  s.rejected_banned =
      m.GetCounter(kRejected, kRejectedHelp, {{"reason", "banned"}});
  s.rejected_max_startups =
      m.GetCounter(kRejected, kRejectedHelp, {{"reason", "max_startups"}});
  s.rejected_max_startups_per_source = m.GetCounter(
      kRejected, kRejectedHelp, {{"reason", "max_startups_per_source"}});
  s.sessions_open =
      m.GetGauge("sftpgate_sessions_open", "Authenticated SSH sessions open");
  s.sessions_total = m.GetCounter("sftpgate_sessions_total",
                                  "SSH sessions authenticated successfully");
  s.auth_bans = m.GetCounter("sftpgate_auth_bans_total",
                             "Source networks banned for failed logins");
  s.banned_sources =
      m.GetGauge("sftpgate_auth_banned_sources", "Source networks banned now");
  s.auth_throttle_evictions =
      m.GetCounter("sftpgate_auth_throttle_evictions_total",
                   "Source networks dropped from the full failed-login table");
  constexpr char kBytes[] = "sftpgate_channel_bytes_total";
  constexpr char kBytesHelp[] =
      "SFTP bytes through SSH channels (in: from clients, out: to clients)";
  s.bytes_in = m.GetCounter(kBytes, kBytesHelp, {{"direction", "in"}});
  s.bytes_out = m.GetCounter(kBytes, kBytesHelp, {{"direction", "out"}});
  const char* results[] = {"ok", "fail", "banned"};
  for (AuthMethod method :
       {AuthMethod::kPassword, AuthMethod::kKeyboardInteractive,
        AuthMethod::kPublicKey}) {
    for (int result = 0; result < 3; ++result) {
      s.auth_attempts[static_cast<int>(method)][result] = m.GetCounter(
          "sftpgate_auth_attempts_total",
          "Authentication attempts by method and result",
          {{"method", AuthMethodName(method)}, {"result", results[result]}});
    }
  }
  return s;
}

}  // namespace

const SshMetrics& GetSshMetrics() {
  static const SshMetrics metrics = Register(Metrics::Global());
  return metrics;
}

}  // namespace sftpgate::server
