// What every connection of one SshServer shares: credentials, the backend,
// limits and the live-connection count. Built once at startup; immutable
// afterwards except for the atomic counter.

#ifndef SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_
#define SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_

#include <atomic>
#include <memory>

#include "absl/time/time.h"
#include "server/sftp/sftp_session.h"
#include "server/ssh/user_auth.h"

namespace sftpgate::server {

struct ConnectionLimits {
  // Failed authentication attempts before the connection is closed.
  int max_auth_tries = 6;
  // Time from accept to successful authentication.
  absl::Duration login_grace = absl::Seconds(120);
  // Session channels open at once on one connection.
  int max_channels = 10;
  // Output bytes handed to libssh per channel and loop round; libssh
  // sends them with one blocking send() (see sftp_channel.cc).
  size_t max_write_per_round = 256 * 1024;
};

struct ServerContext {
  const UserAuthenticator* auth = nullptr;  // not owned
  std::shared_ptr<v1::Backend::StubInterface> backend;
  SftpLimits sftp_limits;
  ConnectionLimits limits;
  // Connections accepted and not yet torn down (the acceptor increments,
  // the owning loop decrements).
  std::atomic<int> live_connections{0};
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_SERVER_CONTEXT_H_
