// Front-end settings: what `sftpgate` is told on its command line or in its
// TOML config file (--config). Both use the same names: every setting is a
// flag --NAME (dashes and underscores both accepted) and a top-level TOML
// key NAME. Flags given on the command line override the file. The one
// exception are the per-tenant backend routes (see Settings).
//
// Plain data; not synchronized.

#ifndef SFTPGATE_SERVER_CONFIG_SETTINGS_H_
#define SFTPGATE_SERVER_CONFIG_SETTINGS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server {

// The one list of settings: X(type, name, default, help). Used to declare
// the struct below, the command-line flags (main.cc) and the TOML keys, so
// that the three can never disagree. Types are std::string, int or bool.
#define SFTPGATE_SETTINGS(X)                                                 \
  X(std::string, listen, "127.0.0.1:2222",                                   \
    "Address to accept SSH connections on: HOST:PORT or [V6]:PORT")          \
  X(std::string, backend, "",                                                \
    "gRPC target of the storage backend, e.g. unix:/run/b.sock, "            \
    "127.0.0.1:9000 or dns:///backends:9000")                                \
  X(std::string, auth, "",                                                   \
    "Delegated authentication: grpc:TARGET sends password and public-key "   \
    "attempts to an sftpgate.v1.Authenticator service; users found in "      \
    "--users are decided by that file first")                                \
  X(std::string, backend_tls_cert, "",                                       \
    "Mutual TLS to the backends: the front end's certificate (PEM); with "   \
    "backend_tls_key and backend_tls_ca. Empty: plaintext (use unix:)")      \
  X(std::string, backend_tls_key, "",                                        \
    "Mutual TLS to the backends: the front end's private key (PEM)")         \
  X(std::string, backend_tls_ca, "",                                         \
    "Mutual TLS to the backends: the CA (PEM) backend certificates must "    \
    "chain to")                                                              \
  X(std::string, backend_tls_server_name, "",                                \
    "Name the backends' certificates are checked against when it differs "   \
    "from the target's host")                                                \
  X(std::string, auth_tls_cert, "",                                          \
    "Mutual TLS to the --auth authenticator: the front end's certificate "   \
    "(PEM); with auth_tls_key and auth_tls_ca")                              \
  X(std::string, auth_tls_key, "",                                           \
    "Mutual TLS to the authenticator: the front end's private key (PEM)")    \
  X(std::string, auth_tls_ca, "",                                            \
    "Mutual TLS to the authenticator: the CA (PEM) its certificate must "    \
    "chain to")                                                              \
  X(std::string, auth_tls_server_name, "",                                   \
    "Name the authenticator's certificate is checked against when it "       \
    "differs from the target's host")                                        \
  X(bool, auth_allow_insecure, false,                                        \
    "Send passwords to an --auth authenticator that is neither on a unix "   \
    "socket, nor on loopback, nor behind auth_tls_*: refused unless set")    \
  X(int, auth_timeout_ms, 5000,                                              \
    "Deadline of each call to the --auth authenticator, in milliseconds")    \
  X(std::string, events, "",                                                 \
    "Event notifications: grpc:TARGET sends logins, logouts, committed "     \
    "uploads, finished downloads, removals, renames and directory changes "  \
    "to an sftpgate.v1.Events service, at least once; empty: none")          \
  X(std::string, events_tls_cert, "",                                        \
    "Mutual TLS to the --events service: the front end's certificate "       \
    "(PEM); with events_tls_key and events_tls_ca")                          \
  X(std::string, events_tls_key, "",                                         \
    "Mutual TLS to the events service: the front end's private key (PEM)")   \
  X(std::string, events_tls_ca, "",                                          \
    "Mutual TLS to the events service: the CA (PEM) its certificate must "   \
    "chain to")                                                              \
  X(std::string, events_tls_server_name, "",                                 \
    "Name the events service's certificate is checked against when it "      \
    "differs from the target's host")                                        \
  X(int, events_queue_size, 10000,                                           \
    "Events held for delivery while the --events service is slow or down; "  \
    "past it new events are dropped (counted and logged)")                   \
  X(int, events_retry_max_ms, 2000,                                          \
    "Longest wait between retries of a failed delivery (the wait doubles "   \
    "from 100 ms up to this)")                                               \
  X(int, events_timeout_ms, 5000,                                            \
    "Deadline of each call to the --events service, in milliseconds")        \
  X(std::string, host_key, "",                                               \
    "SSH host private key file; generated (ed25519, mode 0600) if missing")  \
  X(std::string, users, "",                                                  \
    "Users file (TOML, [[user]] tables); optional with --auth")              \
  X(std::string, run_as, "",                                                 \
    "Started as root: after binding the port and reading the host key and "  \
    "users file, switch to this user and its group for good")                \
  X(std::string, metrics_listen, "",                                         \
    "HOST:PORT of the HTTP endpoint serving /metrics (Prometheus) and "      \
    "/healthz; empty: none")                                                 \
  X(std::string, log_format, "text", "Log format: text or json")             \
  X(std::string, log_level, "info",                                          \
    "Least level logged: debug, info, "                                      \
    "warning or error")                                                      \
  X(std::string, proxy_protocol, "off",                                      \
    "PROXY protocol (v1 or v2) on the --listen address: off, or required "   \
    "(every connection must come from proxy_protocol_sources and start "     \
    "with a header naming the real client; anything else is dropped)")       \
  X(std::string, proxy_protocol_sources, "",                                 \
    "Comma-separated networks of the load balancers allowed to connect "     \
    "when proxy_protocol is required, e.g. 10.0.0.0/8,2001:db8::/32")        \
  X(int, proxy_protocol_timeout_ms, 3000,                                    \
    "Time a connection has to send its whole PROXY header")                  \
  X(int, max_sessions, 1000, "Most SSH connections open at once")            \
  X(int, max_sessions_per_user, 100,                                         \
    "Most authenticated SSH connections one user may have open at once "     \
    "(0: no limit)")                                                         \
  X(int, idle_timeout_seconds, 900,                                          \
    "Close an authenticated connection after this many seconds with no "     \
    "SFTP request in flight and no channel traffic (0: never)")              \
  X(int, auth_max_failures, 10,                                              \
    "Failed connections (ended without authenticating after a refused "      \
    "password or signed key) from one source network within "                \
    "auth_failure_window_seconds that ban the network (0: no bans)")         \
  X(int, auth_failure_window_seconds, 60,                                    \
    "Window in which auth_max_failures failed connections ban a network")    \
  X(int, auth_ban_seconds, 300,                                              \
    "How long a banned source network stays banned")                         \
  X(std::string, auth_exempt_networks, "",                                   \
    "Comma-separated networks (CIDR, e.g. 10.0.0.0/8,::1) never counted "    \
    "nor banned for failed logins; loopback is not exempt unless listed")    \
  X(int, source_ipv4_prefix, 32,                                             \
    "Prefix length grouping IPv4 sources for bans and per-source limits")    \
  X(int, source_ipv6_prefix, 64,                                             \
    "Prefix length grouping IPv6 sources for bans and per-source limits "    \
    "(one host usually owns a /64)")                                         \
  X(int, max_startups, 100,                                                  \
    "Most connections not yet authenticated, in total; more are closed at "  \
    "once (0: no limit)")                                                    \
  X(int, max_startups_per_source, 10,                                        \
    "Most connections not yet authenticated from one source network "        \
    "(see source_ipv4_prefix); more are closed at once (0: no limit)")       \
  X(int, auth_ban_delay_ms, 1000,                                            \
    "How long a connection from a banned address is held, unanswered, "      \
    "before it is closed")                                                   \
  X(int, auth_workers, 2, "Threads that verify password hashes")             \
  X(int, max_auth_tries, 6,                                                  \
    "Failed authentication attempts allowed per "                            \
    "connection before it is closed")                                        \
  X(int, login_grace_seconds, 30,                                            \
    "Seconds a connection may take to authenticate")                         \
  X(int, event_loop_threads, 0, "SSH event-loop threads (0: one per CPU)")   \
  X(int, shutdown_grace_seconds, 0,                                          \
    "On SIGTERM/SIGINT, seconds to let transfers in progress finish (each "  \
    "connection is closed once quiet) before closing the rest; a second "    \
    "signal ends the wait")                                                  \
  X(int, max_channels_per_session, 10,                                       \
    "Most SFTP channels one SSH connection may open at once")                \
  X(int, call_timeout_ms, 30000,                                             \
    "Deadline of each backend call, in milliseconds (a read or write "       \
    "stream, SFTP or scp, fails after this long without progress)")          \
  X(int, max_in_flight, 128, "SFTP requests served at once per channel")     \
  X(int, max_handles, 256, "Open SFTP handles per channel")                  \
  X(int, transfer_buffer_mb, 16,                                             \
    "MiB of file data (read-ahead, write-behind) one SFTP channel may hold " \
    "in the front end; past it its transfers slow to the client's pace")     \
  X(int, upload_total_kib_per_second, 0,                                     \
    "Upload rate of all users together, KiB/s (0: unlimited); per-user "     \
    "rates are set in the users file or by the authenticator")               \
  X(int, download_total_kib_per_second, 0,                                   \
    "Download rate of all users together, KiB/s (0: unlimited)")             \
  X(int, transfer_buffer_total_mb, 1024,                                     \
    "MiB of file data all channels together may hold; past it every "        \
    "transfer holds at most one message at a time")                          \
  X(bool, exec_commands, true,                                               \
    "Serve the SSH exec allow-list: legacy scp (scp -O), md5sum, sha1sum, "  \
    "sha256sum and echo, inside sftpgate (never a shell); false refuses "    \
    "every exec request")                                                    \
  X(int, hash_limit_mb, 65536,                                               \
    "MiB of file data one SSH connection may have the front end read to "    \
    "compute checksums (check-file, md5sum...); digests the backend stores " \
    "cost nothing; 0: only backend digests")

struct Settings {
#define SFTPGATE_SETTINGS_FIELD(type, name, default_value, help) \
  type name = default_value;
  SFTPGATE_SETTINGS(SFTPGATE_SETTINGS_FIELD)
#undef SFTPGATE_SETTINGS_FIELD
  // Per-tenant backend routes, tenant -> gRPC target: repeated
  // --tenant-backend NAME=TARGET flags, or TOML tables
  //   [tenants.NAME]
  //   backend = "TARGET"
  // (flags add to and override the file's routes).
  std::map<std::string, std::string> tenant_backends;
};

// Adds "NAME=TARGET" (a --tenant-backend value) to `settings`.
absl::Status AddTenantBackend(absl::string_view name_equals_target,
                              Settings* settings);

// Reads the TOML file at `path` and sets every key it holds in `settings`
// (keys it lacks are left alone). Errors name the file, the line and the
// key: unreadable file, TOML syntax error, unknown key, wrong type.
absl::Status LoadSettingsFile(const std::string& path, Settings* settings);

// Same, from TOML text; `source` names it in messages.
absl::Status ParseSettings(absl::string_view toml, absl::string_view source,
                           Settings* settings);

// True when gRPC `target` stays on this machine: a unix socket, or a
// loopback address or "localhost" (with or without a dns:/ipv4:/ipv6:
// scheme).
bool IsLocalTarget(absl::string_view target);

// Checks that the settings make sense together: required values present,
// listen address parseable, enumerations known, numbers in range. The
// message names the setting.
absl::Status ValidateSettings(const Settings& settings);

// Splits "host:port" or "[v6]:port".
absl::Status ParseListenAddress(absl::string_view listen, std::string* host,
                                uint16_t* port);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_SETTINGS_H_
