// ConnectionLoop: one event loop and the connections assigned to it.
//
// The acceptor hands each accepted session to one ConnectionLoop (Adopt);
// from then on the session is only touched by that loop's thread. Each
// round the loop polls the sockets of its connections itself and lets
// libssh run (ssh_event_dopoll on the session's own event) only for those
// that fired (see connection.h for why sessions do not share an event).
//
// Thread safety: Adopt(), Stop(), Join() and load() are thread-safe; the
// rest runs on the loop thread.

#ifndef SFTPGATE_SERVER_SSH_CONNECTION_LOOP_H_
#define SFTPGATE_SERVER_SSH_CONNECTION_LOOP_H_

#include <libssh/libssh.h>
#include <poll.h>

#include <atomic>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/common/event_loop.h"
#include "server/ssh/connection.h"
#include "server/ssh/server_context.h"

namespace sftpgate::server {

class ConnectionLoop {
 public:
  ConnectionLoop(ServerContext* context, std::string name);
  ~ConnectionLoop();

  absl::Status Start();
  // Takes ownership of an accepted session (one live_connections slot
  // already counted for it) and starts it on the loop.
  void Adopt(ssh_session session, std::string id, std::string remote_address);
  // Disconnects every connection and stops the loop. Idempotent.
  void Stop();
  void Join();

  // Connections on this loop (approximate: for balancing).
  int load() const { return load_.load(std::memory_order_relaxed); }

 private:
  void BeforePoll(std::vector<pollfd>* fds);
  void OnReady(const pollfd* fds, size_t count);
  int AfterPoll();
  void OnStop();

  ServerContext* const context_;
  EventLoop loop_;
  std::atomic<int> load_{0};
  // Loop thread only. std::list: elements never move.
  std::list<std::unique_ptr<Connection>> connections_;
  // The connections polled this round, in BeforePoll's order (none is
  // destroyed before OnReady: that happens in AfterPoll).
  std::vector<Connection*> polled_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_CONNECTION_LOOP_H_
