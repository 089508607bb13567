// Connection: one accepted SSH connection, living on one event loop.
//
// It runs the key exchange and authentication (password, public key,
// keyboard-interactive with one "Password: " prompt), enforces the
// per-connection limits (auth attempts, login grace time, channel count,
// idle timeout, sessions per user, unauthenticated connections per source
// and in total, source-network bans), opens session
// channels (SftpChannel) for authenticated users, and tears everything
// down when the peer goes away or a limit is hit.
//
// Each session has an ssh_event of its own, and authentication never
// blocks the loop: auth requests are taken as queued ssh_messages and
// answered when the verdict is posted back. Why both: docs/architecture.md,
// "SSH sessions and authentication".
//
// Thread safety: loop thread only. libssh callbacks only record state;
// Service(), called by the loop after every poll round, acts on it (libssh
// may call this session's callbacks from inside any of its functions, so
// nothing is freed inside one).

#ifndef SFTPGATE_SERVER_SSH_CONNECTION_H_
#define SFTPGATE_SERVER_SSH_CONNECTION_H_

#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/auth/authenticator.h"
#include "server/backend/backend_stub.h"
#include "server/common/event_loop.h"
#include "server/ssh/server_context.h"
#include "server/ssh/sftp_channel.h"

namespace sftpgate::server {

class Connection {
 public:
  // Takes ownership of `session` (accepted by ssh_bind_accept, not yet
  // key-exchanged). `id` is the session id sent to the backend.
  Connection(ServerContext* context, EventLoop* loop, ssh_session session,
             std::string id, std::string remote_address);
  // Shuts down every SFTP session, disconnects and frees the libssh session,
  // logs session_end and releases the connection's slots.
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the key exchange and adds the session to the loop's event (or,
  // for a banned source address, only schedules the close). An error means
  // the connection is already unusable.
  absl::Status Start();

  // The socket, the events to poll it for this round (0: do not poll it),
  // and what the poll found (runs libssh on this session's event).
  int fd() const { return ssh_get_fd(session_); }
  short PollEvents() const;
  void OnPollResult(short revents);

  // Loop work after a poll round (see SftpChannel::Service). Returns false
  // when the connection is over and should be destroyed. Lowers *wake_by
  // to the time it next needs a round without any event (a timer).
  bool Service(absl::Time now, bool* busy, absl::Time* wake_by);

  // Ends the connection at the next Service() (e.g. server shutdown).
  void RequestDisconnect(std::string reason);

  // For the channels.
  ssh_session session() const { return session_; }
  const ServerContext& context() const { return *context_; }
  const std::string& id() const { return id_; }
  // The authenticated user name ("" before authentication).
  const std::string& user() const { return identity_.user; }
  // Options for a new SftpSession of this connection (sink and
  // resume_input left for the channel to fill).
  SftpSessionOptions NewSftpSessionOptions() const;
  // The Session sent to the backend (and in events) once authenticated.
  v1::Session SessionProto() const;
  // A channel moved SFTP bytes (idle timeout, metrics).
  void NoteTraffic(size_t bytes_in, size_t bytes_out);
  // Output queued or promised by all the connection's channels
  // (SftpChannel::Backlog), for SftpLimits::max_connection_output.
  size_t OutputBacklog() const;

 private:
  // Post-authentication libssh callbacks.
  static ssh_channel OnChannelOpen(ssh_session, void* self);
  static int OnMessage(ssh_session, ssh_message message, void* self);
  // Takes the requests libssh queued while unauthenticated, one by one.
  void PumpMessages();
  // After a poll found the socket readable: lets libssh read what else is
  // already waiting, without a loop round per 4 KiB (connection.cc).
  void TakeWaitingInput();
  void HandleQueuedMessage(ssh_message message);
  void HandleAuthRequest(ssh_message message);
  // Holds `message` and asks the authenticator about `attempt`.
  void BeginAttempt(ssh_message message, AuthAttempt attempt);
  // The authenticator's answer, back on the loop thread.
  void OnVerdict(AuthVerdict verdict);
  // What a failed attempt says about the client.
  enum class Failure {
    kRefused,      // wrong credentials: the connection owes a penalty
    kProbe,        // a public key offered and answered "not this key"
    kUnavailable,  // not checked (queue full, authenticator down)
  };
  // Logs and counts one failed attempt. Only kRefused makes the
  // connection, should it end unauthenticated, one penalty towards a ban.
  void RecordFailure(AuthMethod method, absl::string_view user,
                     absl::string_view reason, Failure failure);
  // The connection ends unauthenticated after a refused credential: one
  // penalty for its source (logs the ban it may start).
  void Penalize();
  // Makes the connection authenticated as `identity` and installs the
  // post-authentication callbacks.
  void Succeed(ssh_message message, Identity identity);
  // The source address is banned: stop talking and close after a delay.
  void HoldThenClose(absl::Time now);
  void CheckIdle(absl::Time now);

  ServerContext* const context_;
  EventLoop* const loop_;
  ssh_session session_;
  const std::string id_;
  const std::string remote_address_;  // "ip:port"
  const std::string remote_host_;     // "ip", the throttling key
  const absl::Time started_;
  struct ssh_server_callbacks_struct server_callbacks_;
  // Lets posted verdicts detect that the connection is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
  ssh_event event_ = nullptr;  // this session's own (see above)
  bool input_seen_ = false;    // the socket was readable (before auth)
  bool tearing_down_ = false;  // in the destructor: refuse all callbacks

  // Authentication.
  bool authenticated_ = false;
  Identity identity_;  // set once authenticated
  // The backend serving the user (set once authenticated).
  std::shared_ptr<const backend::BackendStub> backend_;
  // File bytes this connection's channels may still read for digests
  // (setting hash_limit_mb), shared by all of them.
  std::shared_ptr<sftp::HashBudget> hash_budget_;
  bool holds_user_slot_ = false;  // counted in context_->user_sessions
  // Held until authenticated (context_->startups).
  std::unique_ptr<StartupLimiter::Slot> startup_slot_;
  bool penalty_due_ = false;  // a credential was refused (Failure::kRefused)
  std::string client_version_;
  std::string kbdint_user_;  // user of the keyboard-interactive exchange
  int auth_failures_ = 0;
  // The auth request waiting for a verdict (owned), and what it asked.
  ssh_message pending_message_ = nullptr;
  AuthMethod pending_method_ = AuthMethod::kPassword;
  std::string pending_user_;
  std::string pending_key_fingerprint_;
  bool pending_probe_ = false;
  // Banned source address: closed at hold_until_, nothing answered before.
  bool held_ = false;
  bool quiet_ = false;  // held from the start: log at debug level only
  absl::Time hold_until_ = absl::InfiniteFuture();

  // Idle timeout.
  bool traffic_seen_ = false;
  absl::Time last_activity_;

  std::string disconnect_reason_;  // non-empty: end at next Service()
  std::string end_reason_ = "closed by client";

  std::vector<std::unique_ptr<SftpChannel>> channels_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_CONNECTION_H_
