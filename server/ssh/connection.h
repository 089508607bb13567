// Connection: one accepted SSH connection, living on one event loop.
//
// It runs the key exchange and authentication (password, public key,
// keyboard-interactive with one "Password: " prompt) through libssh's
// non-blocking server callbacks, enforces the per-connection limits (auth
// attempts, login grace time, channel count), opens session channels
// (SftpChannel) for authenticated users, and tears everything down when the
// peer goes away or a limit is hit.
//
// Thread safety: loop thread only. libssh callbacks only record state;
// Service(), called by the loop after every poll round, acts on it (libssh
// may call callbacks from inside any of its functions, even for other
// connections of the loop, so nothing is freed inside one).

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
  // logs session_end and releases the connection's slot.
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Installs callbacks, starts the key exchange and adds the session to the
  // loop's event. An error means the connection is already unusable.
  absl::Status Start();

  // Loop work after a poll round (see SftpChannel::Service). Returns false
  // when the connection is over and should be destroyed.
  bool Service(absl::Time now, bool* busy);

  // Ends the connection at the next Service() (e.g. server shutdown).
  void RequestDisconnect(std::string reason);

  // For the channels.
  ssh_session session() const { return session_; }
  const ServerContext& context() const { return *context_; }
  const std::string& id() const { return id_; }
  // The authenticated user name ("" before authentication).
  const std::string& user() const { return user_name_; }
  // Options for a new SftpSession of this connection (sink and
  // resume_input left for the channel to fill).
  SftpSessionOptions NewSftpSessionOptions() const;

 private:
  static int OnAuthPassword(ssh_session, const char* user, const char* password,
                            void* self);
  static int OnAuthPubkey(ssh_session, const char* user, ssh_key_struct* key,
                          char signature_state, void* self);
  static ssh_channel OnChannelOpen(ssh_session, void* self);
  static int OnMessage(ssh_session, ssh_message message, void* self);

  int HandleKeyboardInteractive(ssh_message message);
  // Records the outcome of one attempt; returns the libssh verdict. `key`
  // is the public key of a publickey attempt (logged by fingerprint).
  int Conclude(const UserRecord* user, const char* method,
               absl::string_view attempted_user, const ssh_key key = nullptr);
  bool MayAttemptAuth() const;

  ServerContext* const context_;
  EventLoop* const loop_;
  ssh_session session_;
  const std::string id_;
  const std::string remote_address_;
  const absl::Time started_;
  struct ssh_server_callbacks_struct server_callbacks_;
  bool in_event_ = false;
  bool tearing_down_ = false;  // in the destructor: refuse all callbacks

  const UserRecord* user_ = nullptr;  // set once authenticated
  std::string user_name_;
  std::string client_version_;
  std::string kbdint_user_;  // user of the keyboard-interactive exchange
  int auth_failures_ = 0;
  std::string disconnect_reason_;  // non-empty: end at next Service()
  std::string end_reason_ = "closed by client";

  std::vector<std::unique_ptr<SftpChannel>> channels_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_CONNECTION_H_
