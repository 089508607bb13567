// ProxyHandshakes: reads the PROXY protocol header (ProxyHeader) of
// connections accepted on a listener behind a load balancer, before libssh
// sees them (and before our SSH banner is sent).
//
// The acceptor hands every accepted socket to Add(). A socket whose peer is
// not in the allowed source networks is closed at once; the others are
// read, without blocking, on one thread of their own, each within
// `timeout` from its accept. A socket whose header is complete goes to the
// `ready` callback with the client's real address ("ip:port"; the
// balancer's own for a LOCAL command or v1 UNKNOWN, e.g. a health check);
// a missing, malformed, truncated or oversized header, or no header in
// time, closes the socket. Every outcome is counted in
// sftpgate_proxy_headers_total{result} and every refusal logged
// (proxy_header_rejected). At most `max_pending` sockets wait for their
// header; more are closed.
//
// Thread safety: Add() from the acceptor thread; Start()/Stop() from the
// controlling thread; `ready` runs on the handshake thread.

#ifndef SFTPGATE_SERVER_SSH_PROXY_HANDSHAKES_H_
#define SFTPGATE_SERVER_SSH_PROXY_HANDSHAKES_H_

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/config/ip_networks.h"
#include "server/ssh/proxy_header.h"

namespace sftpgate::server {

struct ProxyProtocolOptions {
  // Off: connections are taken as they come, no header is read.
  bool required = false;
  // Peers allowed to connect (and send the header); everyone else is
  // refused while `required`.
  SourceNetworks sources;
  // From accept to the header's last byte.
  absl::Duration timeout = absl::Seconds(3);
  size_t max_pending = 1000;
};

class ProxyHandshakes {
 public:
  // Called with a socket (ownership passes) whose header was read and the
  // client address it names.
  using Ready = std::function<void(int fd, std::string remote)>;

  ProxyHandshakes(ProxyProtocolOptions options, Ready ready);
  // Stop()s.
  ~ProxyHandshakes();

  ProxyHandshakes(const ProxyHandshakes&) = delete;
  ProxyHandshakes& operator=(const ProxyHandshakes&) = delete;

  // Starts the handshake thread. An error if the wake-up eventfd fails.
  absl::Status Start();
  // Takes ownership of `fd`, a socket just accepted (blocking mode) from
  // `peer`, whose text form is `peer_text`.
  void Add(int fd, const sockaddr_storage& peer, const std::string& peer_text);
  // Ends the thread and closes the sockets still waiting. Idempotent.
  void Stop();

 private:
  struct Pending {
    int fd;
    std::string peer;
    absl::Time deadline;
    ProxyHeader header;
  };
  void Run();
  // Reads what `pending` may read now; true once it is finished (handed
  // on or closed).
  bool Advance(Pending& pending);
  void Reject(int fd, const std::string& peer, const char* result,
              const std::string& why);

  const ProxyProtocolOptions options_;
  const Ready ready_;
  int wake_fd_ = -1;
  std::thread thread_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<Pending>> added_ ABSL_GUARDED_BY(mu_);
  size_t pending_count_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_PROXY_HANDSHAKES_H_
