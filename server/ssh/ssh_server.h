// SshServer: the SSH listener. One acceptor thread takes connections
// (accept(), then ssh_bind_accept_fd) and hands each to the least-loaded of
// N ConnectionLoops. Behind a load balancer that sends the PROXY protocol
// (options.proxy), each socket first goes to ProxyHandshakes, which reads
// the header; the client address it names is the connection's address.
//
// Algorithms are pinned to modern ones (no CBC, no SHA-1); see
// ssh_server.cc. The system's libssh server config is not read.
//
// Thread safety: Listen(), Start() and Stop() from one controlling thread.

#ifndef SFTPGATE_SERVER_SSH_SSH_SERVER_H_
#define SFTPGATE_SERVER_SSH_SSH_SERVER_H_

#include <libssh/libssh.h>
#include <libssh/server.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/ssh/connection_loop.h"
#include "server/ssh/proxy_handshakes.h"
#include "server/ssh/server_context.h"

namespace sftpgate::server {

struct SshServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 2222;  // 0: any free port (see SshServer::port())
  int loop_threads = 1;
  int max_sessions = 1000;
  // PROXY protocol header before the SSH banner (off by default).
  ProxyProtocolOptions proxy;
};

class SshServer {
 public:
  // `context` must outlive the server. Takes ownership of `host_key`.
  SshServer(ServerContext* context, SshServerOptions options, ssh_key host_key);
  ~SshServer();

  SshServer(const SshServer&) = delete;
  SshServer& operator=(const SshServer&) = delete;

  // Binds and listens (as root, before privileges are dropped, for a port
  // below 1024). Idempotent.
  absl::Status Listen();
  // Listen()s if not done yet, then starts the loops and the acceptor.
  absl::Status Start();
  // The port actually bound (after Listen()).
  uint16_t port() const { return bound_port_; }
  const SshServerOptions& options() const { return options_; }
  // Makes `host_key` (owned from now on) the key new connections are
  // offered; open connections keep theirs. It must be of the type of the
  // current key (libssh keeps one key per type, and cannot drop a type).
  // Thread-safe against the acceptor.
  absl::Status ReplaceHostKey(ssh_key host_key);
  // Stops accepting and listening (new clients are refused); existing
  // connections go on. Idempotent.
  void StopAccepting();
  // Connections currently open.
  int LiveConnections() const;
  // Stops accepting, disconnects every connection (their SFTP sessions are
  // shut down: unfinished uploads are aborted), joins all threads.
  void Stop();

 private:
  absl::Status ConfigureBind();
  void AcceptLoop();
  void AcceptOne();
  // Makes a libssh session of accepted socket `fd` (owned from now on)
  // whose client is `remote` and hands it to a loop. Acceptor or
  // handshake thread.
  void AdoptSocket(int fd, std::string remote);

  ServerContext* const context_;
  const SshServerOptions options_;
  ssh_key host_key_;  // owned until handed to the bind
  enum ssh_keytypes_e host_key_type_;
  // Serializes ssh_bind_accept (acceptor) and key replacement (the bind
  // copies its keys into each accepted session).
  absl::Mutex bind_mu_;
  ssh_bind bind_ = nullptr;
  uint16_t bound_port_ = 0;
  int stop_fd_ = -1;
  std::thread acceptor_;
  std::vector<std::unique_ptr<ConnectionLoop>> loops_;
  std::unique_ptr<ProxyHandshakes> proxy_;  // with options_.proxy.required
  uint64_t next_id_ ABSL_GUARDED_BY(bind_mu_) = 1;
  uint32_t id_prefix_ = 0;  // random per process
  bool stopped_ = false;
  bool listen_shut_down_ = false;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_SSH_SERVER_H_
