#include "server/ssh/sftp_channel.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/exec/exec_session.h"
#include "server/ssh/connection.h"

namespace sftpgate::server {
namespace {

// libssh 0.10.6 (channels.c) grants a channel a window of WINDOWBASE
// (1,280,000) bytes whenever its window plus the bytes it holds for us fall
// under WINDOWLIMIT (half that), and after every read whose window is under
// WINDOWLIMIT, whatever it still holds. Reading everything it holds at once
// (DrainInput) keeps the two in step, so a client that honours the window
// can never make libssh hold more than this for one channel:
constexpr size_t kMaxWindowedInput = 1280000 + 1280000 / 2;
// Input drained per loop round before other channels get their turn.
constexpr size_t kDrainPerRound = 1024 * 1024;
// A drain buffer larger than this is freed once the session took it all.
constexpr size_t kKeepDrainCapacity = 256 * 1024;

SftpChannel* Self(void* userdata) {
  return static_cast<SftpChannel*>(userdata);
}

}  // namespace

SftpChannel::SftpChannel(Connection* owner, ssh_channel channel)
    : owner_(owner), channel_(channel) {
  callbacks_ = {};
  ssh_callbacks_init(&callbacks_);
  callbacks_.userdata = this;
  callbacks_.channel_data_function = &SftpChannel::OnData;
  callbacks_.channel_eof_function = &SftpChannel::OnEof;
  callbacks_.channel_close_function = &SftpChannel::OnClose;
  callbacks_.channel_pty_request_function = &SftpChannel::OnPtyRequest;
  callbacks_.channel_shell_request_function = &SftpChannel::OnShellRequest;
  callbacks_.channel_exec_request_function = &SftpChannel::OnExecRequest;
  callbacks_.channel_env_request_function = &SftpChannel::OnEnvRequest;
  callbacks_.channel_subsystem_request_function =
      &SftpChannel::OnSubsystemRequest;
  // x11-req and auth-agent-req are left unset on purpose: libssh then
  // answers x11-req with failure through the default reply; with a
  // callback set it would answer success.
  ssh_set_channel_callbacks(channel_, &callbacks_);
}

SftpChannel::~SftpChannel() {
  EndSession();
  ssh_remove_channel_callbacks(channel_, &callbacks_);
  // Sends CLOSE if we have not yet; libssh frees the channel once the peer's
  // CLOSE arrives (or with the session).
  in_libssh_ = true;
  ssh_channel_free(channel_);
}

// ---------------------------------------------------------------------------
// libssh callbacks: record what happened, never free anything.

int SftpChannel::OnData(ssh_session, ssh_channel, void* data, uint32_t len,
                        int is_stderr, void* self) {
  if (is_stderr) return static_cast<int>(len);  // clients send none; drop
  return Self(self)->HandleData(static_cast<const char*>(data), len);
}

void SftpChannel::OnEof(ssh_session, ssh_channel, void* self) {
  Self(self)->eof_received_ = true;
}

void SftpChannel::OnClose(ssh_session, ssh_channel, void* self) {
  Self(self)->closed_by_peer_ = true;
}

int SftpChannel::OnPtyRequest(ssh_session, ssh_channel, const char*, int, int,
                              int, int, void* self) {
  Self(self)->Refuse("pty-req");
  return -1;
}

int SftpChannel::OnShellRequest(ssh_session, ssh_channel, void* self) {
  Self(self)->Refuse("shell");
  return 1;
}

int SftpChannel::OnExecRequest(ssh_session, ssh_channel, const char* command,
                               void* self) {
  return Self(self)->StartExec(command) ? 0 : 1;
}

int SftpChannel::OnEnvRequest(ssh_session, ssh_channel, const char*,
                              const char*, void*) {
  // Clients send LANG etc. without wanting a reply; refusing is harmless
  // and not worth a log line.
  return 1;
}

int SftpChannel::OnSubsystemRequest(ssh_session, ssh_channel, const char* name,
                                    void* self) {
  SftpChannel* channel = Self(self);
  if (absl::string_view(name) != "sftp") {
    channel->Refuse(absl::StrCat("subsystem ", name).c_str());
    return 1;
  }
  return channel->StartSftp() ? 0 : 1;
}

// ---------------------------------------------------------------------------

void SftpChannel::Refuse(const char* request) {
  LogEvent(LogLevel::kInfo, "channel_request_refused",
           {{"session", owner_->id()},
            {"user", owner_->user()},
            {"request", request}});
}

bool SftpChannel::StartSftp() {
  if (sftp_started_) {
    Refuse("subsystem sftp (already running)");
    return false;
  }
  SftpSessionOptions options = owner_->NewSftpSessionOptions();
  options.sink = this;
  options.resume_input = [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.lock() != nullptr) OnResume();
  };
  session_ = SftpSession::Create(std::move(options));
  if (session_ == nullptr) {
    LogEvent(LogLevel::kError, "sftp_start_failed",
             {{"session", owner_->id()}, {"user", owner_->user()}});
    return false;
  }
  sftp_started_ = true;
  LogEvent(LogLevel::kInfo, "sftp_start",
           {{"session", owner_->id()}, {"user", owner_->user()}});
  return true;
}

bool SftpChannel::StartExec(const char* command) {
  if (sftp_started_) {
    Refuse("exec (channel already running a program)");
    return false;
  }
  SftpSessionOptions options = owner_->NewSftpSessionOptions();
  options.sink = this;
  options.resume_input = [this, alive = std::weak_ptr<int>(alive_)] {
    if (alive.lock() != nullptr) OnResume();
  };
  if (!owner_->context().sftp_limits.exec_commands) {
    // Accepted, only to tell the client why: a refused request carries no
    // message (OpenSSH prints "exec request failed on channel 0").
    LogEvent(LogLevel::kInfo, "exec_refused",
             {{"session", owner_->id()},
              {"user", owner_->user()},
              {"reason", "exec_commands is off"}});
    session_ = exec::StartExecRefusal(
        "sftpgate: exec commands (legacy scp -O, md5sum, ...) are disabled "
        "on this server; use SFTP (sftp, or scp without -O)",
        std::move(options));
    sftp_started_ = true;
    return true;
  }
  absl::StatusOr<exec::ExecCommand> parsed = exec::ParseExecCommand(command);
  if (!parsed.ok()) {
    // The command itself is not logged: a refused line can be anything
    // (including a password typed as a command).
    LogEvent(LogLevel::kInfo, "exec_refused",
             {{"session", owner_->id()},
              {"user", owner_->user()},
              {"reason", std::string(parsed.status().message())}});
    return false;
  }
  const std::string name(exec::ExecCommandName(*parsed));
  session_ = exec::StartExecSession(*std::move(parsed), std::move(options));
  sftp_started_ = true;
  LogEvent(
      LogLevel::kInfo, "exec_start",
      {{"session", owner_->id()}, {"user", owner_->user()}, {"command", name}});
  return true;
}

int SftpChannel::HandleData(const char* data, uint32_t len) {
  // libssh hands over everything it holds for the channel (0.10.6 accepts
  // data past the window from a "buggy remote" and keeps it). More than the
  // window allows means the client ignores the window: end the connection
  // rather than hold what it sends.
  if (overrun_ || len > kMaxWindowedInput) {
    if (!overrun_) {
      overrun_ = true;
      LogEvent(LogLevel::kWarning, "channel_window_overrun",
               {{"session", owner_->id()},
                {"user", owner_->user()},
                {"bytes", absl::StrCat(len)},
                {"limit", absl::StrCat(kMaxWindowedInput)}});
      owner_->RequestDisconnect("client sent past the SSH channel window");
    }
    return static_cast<int>(len);  // libssh frees it now
  }
  if (session_ == nullptr || close_requested_) {
    // No SFTP session (not started yet, or over): nothing can use the bytes.
    return static_cast<int>(len);
  }
  if (in_libssh_ || in_session_ || paused_ ||
      pending_offset_ < pending_.size()) {
    // Re-entered from a libssh call we made, or input is held back: leave
    // the bytes in libssh's buffer (this keeps their order, and the SSH
    // window throttles the client). Service() drains them.
    libssh_has_input_ = true;
    return 0;
  }
  resumed_during_offer_ = false;
  in_session_ = true;
  size_t used = session_->OnChannelData(absl::string_view(data, len));
  in_session_ = false;
  if (used > 0) owner_->NoteTraffic(used, 0);
  if (used < len) {
    libssh_has_input_ = true;
    if (!resumed_during_offer_) paused_ = true;
  }
  return static_cast<int>(used);
}

void SftpChannel::OnResume() {
  resumed_during_offer_ = true;
  paused_ = false;
}

void SftpChannel::Send(std::string bytes) { Queue(std::move(bytes), 0, false); }

void SftpChannel::SendFrom(std::string buffer, size_t start) {
  Queue(std::move(buffer), start, false);
}

void SftpChannel::SendStderr(std::string bytes) {
  Queue(std::move(bytes), 0, true);
}

void SftpChannel::Queue(std::string bytes, size_t start, bool to_stderr) {
  if (session_ended_ || start >= bytes.size()) return;
  queued_bytes_ += bytes.size();
  out_.push_back({std::move(bytes), start, start, to_stderr});
}

void SftpChannel::Close() { close_requested_ = true; }

void SftpChannel::Exit(int status) {
  exit_status_ = status;
  close_requested_ = true;
}

void SftpChannel::Abort() { EndSession(); }

size_t SftpChannel::InFlight() const {
  return session_ != nullptr ? session_->InFlight() : 0;
}

size_t SftpChannel::Backlog() const {
  return queued_bytes_ + (session_ != nullptr ? session_->ReservedOutput() : 0);
}

size_t SftpChannel::ConnectionBacklog() const {
  return owner_->OutputBacklog();
}

void SftpChannel::EndSession() {
  if (session_ == nullptr || session_ended_) return;
  session_ended_ = true;
  session_->Shutdown();
  session_.reset();
  LogEvent(LogLevel::kDebug, "sftp_end", {{"session", owner_->id()}});
}

void SftpChannel::Flush() {
  size_t budget = owner_->context().limits.max_write_per_round;
  while (!out_.empty() && budget > 0 && !broken_ && !closed_by_peer_) {
    // libssh sends its whole output buffer with one blocking send() once
    // the socket polls writable; keep that buffer small by adding only
    // when it is empty.
    if (ssh_get_status(owner_->session()) & SSH_WRITE_PENDING) return;
    uint32_t window = ssh_channel_window_size(channel_);
    if (window == 0) return;
    // The front string is not touched by anything libssh may re-enter
    // (only session input is, and it is held back while in_libssh_).
    Output& front = out_.front();
    size_t n =
        std::min<size_t>({front.bytes.size() - front.offset, window, budget});
    const char* from = front.bytes.data() + front.offset;
    in_libssh_ = true;
    int rc =
        front.to_stderr
            ? ssh_channel_write_stderr(channel_, from, static_cast<uint32_t>(n))
            : ssh_channel_write(channel_, from, static_cast<uint32_t>(n));
    in_libssh_ = false;
    if (rc < 0) {
      broken_ = true;
      return;
    }
    if (rc == 0) return;
    front.offset += rc;
    queued_bytes_ -= rc;
    owner_->NoteTraffic(0, rc);
    budget -= std::min<size_t>(budget, rc);
    if (front.offset == front.bytes.size()) {
      queued_bytes_ -= front.start;
      out_.pop_front();
    }
  }
}

bool SftpChannel::OfferPending() {
  absl::string_view rest(pending_.data() + pending_offset_,
                         pending_.size() - pending_offset_);
  resumed_during_offer_ = false;
  in_session_ = true;
  size_t used = session_->OnChannelData(rest);
  in_session_ = false;
  pending_offset_ += used;
  if (pending_offset_ < pending_.size()) {
    if (!resumed_during_offer_) paused_ = true;
    return false;
  }
  if (pending_.capacity() > kKeepDrainCapacity) {
    std::string().swap(pending_);
  } else {
    pending_.clear();
  }
  pending_offset_ = 0;
  return true;
}

void SftpChannel::DrainInput(bool* busy) {
  size_t budget = kDrainPerRound;
  while (session_ != nullptr && !paused_ && !close_requested_) {
    if (pending_offset_ < pending_.size()) {
      if (!OfferPending()) {
        // Resumed while refusing part of it: offer the rest next round.
        if (!paused_) *busy = true;
        return;
      }
      continue;
    }
    if (!libssh_has_input_) return;
    if (budget == 0) {
      *busy = true;
      return;
    }
    // Everything libssh holds, in one read: a partial read would let
    // libssh grow the window while it still holds data (see
    // kMaxWindowedInput). HandleData has checked that this is at most
    // kMaxWindowedInput.
    in_libssh_ = true;
    int held = ssh_channel_poll(channel_, 0);
    int n = 0;
    if (held > 0) {
      pending_.resize(held);
      n = ssh_channel_read_nonblocking(channel_, pending_.data(),
                                       static_cast<uint32_t>(held), 0);
    } else {
      n = held == SSH_EOF ? 0 : held;
    }
    in_libssh_ = false;
    if (n <= 0) {
      pending_.clear();
      libssh_has_input_ = false;
      if (n < 0) broken_ = true;
      return;
    }
    pending_.resize(n);
    pending_offset_ = 0;
    owner_->NoteTraffic(n, 0);
    budget -= std::min<size_t>(budget, n);
  }
}

void SftpChannel::CloseLocal() {
  if (closed_local_) return;
  closed_local_ = true;
  if (broken_ || closed_by_peer_) return;
  in_libssh_ = true;
  // Like sshd when the program exits: exit-status, EOF, CLOSE.
  ssh_channel_request_send_exit_status(channel_, exit_status_);
  ssh_channel_send_eof(channel_);
  ssh_channel_close(channel_);
  in_libssh_ = false;
}

bool SftpChannel::Service(bool* busy) {
  // Closed on our side: kept (with its callbacks, which drop the client's
  // bytes) until the client's CLOSE, so that libssh never buffers data
  // for a channel nobody reads.
  if (closed_local_) return closed_by_peer_ || broken_;
  if (!broken_ && !closed_by_peer_) {
    size_t queued_before = queued_bytes_;
    Flush();
    // The session may have paused for queued output: offer input again
    // when output moved, and tell the session (it then stops polling).
    if (queued_bytes_ < queued_before) {
      if (paused_) paused_ = false;
      if (session_ != nullptr) session_->OnOutputDrained();
    }
    DrainInput(busy);
    if (!out_.empty() && ssh_channel_window_size(channel_) > 0 &&
        !(ssh_get_status(owner_->session()) & SSH_WRITE_PENDING)) {
      *busy = true;  // stopped for the write budget
    }
  }
  if (broken_ || closed_by_peer_) {
    LogEvent(
        LogLevel::kDebug, "channel_end",
        {{"session", owner_->id()},
         {"reason", broken_ ? absl::StrCat("libssh error: ",
                                           ssh_get_error(owner_->session()))
                            : "closed by client"}});
    EndSession();
    return true;
  }
  // The client will send nothing more once it sent EOF and we took all of
  // its input: end the session (like sftp-server on EOF of its stdin).
  bool input_done = !libssh_has_input_ && pending_offset_ >= pending_.size();
  bool ends_with_input = session_ == nullptr || session_->EndsWithInput();
  if (eof_received_ && input_done && !ends_with_input && !input_end_told_) {
    // An exec command: its input ended; it decides when it is done.
    input_end_told_ = true;
    session_->OnInputEnd();
    *busy = true;  // it may have queued output or ended: come back at once
  }
  if (eof_received_ && input_done && ends_with_input) EndSession();
  if ((eof_received_ && input_done && ends_with_input) || close_requested_) {
    EndSession();
    if (out_.empty()) {
      LogEvent(LogLevel::kDebug, "channel_end",
               {{"session", owner_->id()},
                {"reason", close_requested_ ? "closed by the SFTP session"
                                            : "EOF from client"}});
      CloseLocal();
      return closed_by_peer_ || broken_;
    }
  }
  return false;
}

}  // namespace sftpgate::server
