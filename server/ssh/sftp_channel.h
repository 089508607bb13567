// SftpChannel: one SSH "session" channel that may carry the SFTP subsystem
// or one allow-listed exec command (server/exec: legacy scp, md5sum...).
//
// It refuses every other request (shell, pty, env, x11, agent forwarding,
// exec of anything off the allow-list are answered with failure), then
// feeds the channel's bytes to the SftpSession (or exec command) and is
// its PacketSink.
//
// libssh 0.10 constraints handled here (see docs/architecture.md):
//  - Output is queued; Service() writes it as the peer's window allows
//    (0.10 has no "window reopened" callback, so this is retried after every
//    poll round).
//  - Any libssh call may poll the event and re-enter the data callback of
//    this channel; while we are inside libssh the callback leaves the bytes
//    in libssh's buffer, and Service() drains them later with
//    ssh_channel_read_nonblocking.
//  - Bytes the session does not take stay in libssh's buffer (so the SSH
//    window throttles the client) until the session calls resume_input.
//  - Nothing is freed inside a libssh callback; callbacks only set state
//    that Service() acts on.
//  - libssh 0.10.6 keeps data a client sends past the channel window. The
//    data callback sees everything libssh holds for the channel; more than
//    a window-honouring client can have sent ends the connection. Input is
//    drained from libssh all at once, which keeps libssh from granting
//    window while it still holds data (see sftp_channel.cc).
//  - After closing, the channel stays (dropping input) until the client's
//    CLOSE: libssh would otherwise buffer data for a freed channel.
//
// Thread safety: loop thread only, like the ssh_session it belongs to.

#ifndef SFTPGATE_SERVER_SSH_SFTP_CHANNEL_H_
#define SFTPGATE_SERVER_SSH_SFTP_CHANNEL_H_

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "server/sftp/sftp_session.h"

namespace sftpgate::server {

class Connection;

class SftpChannel final : public PacketSink {
 public:
  // `channel` is a new channel of `owner`'s session (ssh_channel_new); this
  // object installs its callbacks and frees it when destroyed.
  SftpChannel(Connection* owner, ssh_channel channel);
  ~SftpChannel() override;

  SftpChannel(const SftpChannel&) = delete;
  SftpChannel& operator=(const SftpChannel&) = delete;

  // PacketSink.
  void Send(std::string bytes) override;
  void SendFrom(std::string buffer, size_t start) override;
  size_t QueuedBytes() const override { return queued_bytes_; }
  size_t ConnectionBacklog() const override;
  void Close() override;
  void SendStderr(std::string bytes) override;
  void Exit(int status) override;

  // Does the pending work: writes queued output, feeds buffered input to
  // the session, acts on EOF/close. Sets *busy when it stopped for its
  // per-round budget with work left. Returns true when the channel is done
  // and may be destroyed.
  bool Service(bool* busy);

  // The connection is going away: shut the SFTP session down now.
  void Abort();

  ssh_channel channel() const { return channel_; }
  // SFTP requests being served (0 before or after the SFTP session).
  size_t InFlight() const;
  // Output queued, plus the replies the session has promised to requests
  // it took (SftpSession::ReservedOutput).
  size_t Backlog() const;

 private:
  static int OnData(ssh_session, ssh_channel, void* data, uint32_t len,
                    int is_stderr, void* self);
  static void OnEof(ssh_session, ssh_channel, void* self);
  static void OnClose(ssh_session, ssh_channel, void* self);
  static int OnPtyRequest(ssh_session, ssh_channel, const char*, int, int, int,
                          int, void* self);
  static int OnShellRequest(ssh_session, ssh_channel, void* self);
  static int OnExecRequest(ssh_session, ssh_channel, const char*, void* self);
  static int OnEnvRequest(ssh_session, ssh_channel, const char*, const char*,
                          void* self);
  static int OnSubsystemRequest(ssh_session, ssh_channel, const char* name,
                                void* self);

  int HandleData(const char* data, uint32_t len);
  bool StartSftp();
  bool StartExec(const char* command);
  // Queues output for stdout or stderr: `bytes` from `start` on.
  void Queue(std::string bytes, size_t start, bool to_stderr);
  void Refuse(const char* request);
  void OnResume();
  // Offers `pending_` to the session; false when it stopped taking input.
  bool OfferPending();
  void Flush();
  void DrainInput(bool* busy);
  // Shuts the SFTP session down (once) and drops it.
  void EndSession();
  // Sends exit-status, EOF and CLOSE to the client.
  void CloseLocal();

  Connection* const owner_;
  ssh_channel channel_;
  struct ssh_channel_callbacks_struct callbacks_;
  std::shared_ptr<SftpSession> session_;
  // Lets resume_input closures detect that the channel is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);

  // Output not yet accepted by libssh: each entry's bytes from `offset` on
  // (the front one's offset moves as libssh takes them). queued_bytes_
  // counts whole buffers, the unsent bytes in front of `start` included:
  // they are memory the queue holds.
  struct Output {
    std::string bytes;
    size_t start;
    size_t offset;
    bool to_stderr;
  };
  std::deque<Output> out_;
  size_t queued_bytes_ = 0;

  // Input read from libssh that the session has not taken yet.
  std::string pending_;
  size_t pending_offset_ = 0;

  bool in_libssh_ = false;         // inside a libssh call made by this channel
  bool in_session_ = false;        // inside session_->OnChannelData
  bool libssh_has_input_ = false;  // bytes left in libssh's channel buffer
  bool paused_ = false;            // session refused input; wait for resume
  bool resumed_during_offer_ = false;
  bool sftp_started_ = false;    // the SFTP subsystem or an exec command
  int exit_status_ = 0;          // sent at the end (Exit())
  bool input_end_told_ = false;  // OnInputEnd() called
  bool session_ended_ = false;
  bool eof_received_ = false;
  bool closed_by_peer_ = false;
  bool close_requested_ = false;  // PacketSink::Close()
  bool broken_ = false;           // a libssh call failed on this channel
  bool closed_local_ = false;
  bool overrun_ = false;  // the client sent past the window
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_SFTP_CHANNEL_H_
