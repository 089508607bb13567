#include "server/ssh/connection.h"

#include <poll.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/backend/grpc_backend_client.h"
#include "server/common/log.h"
#include "server/ssh/host_key.h"
#include "server/ssh/ssh_metrics.h"

namespace sftpgate::server {
namespace {

Connection* Self(void* userdata) { return static_cast<Connection*>(userdata); }

const char* ChannelTypeName(int subtype) {
  switch (subtype) {
    case SSH_CHANNEL_SESSION:
      return "session";
    case SSH_CHANNEL_DIRECT_TCPIP:
      return "direct-tcpip";
    case SSH_CHANNEL_FORWARDED_TCPIP:
      return "forwarded-tcpip";
    case SSH_CHANNEL_X11:
      return "x11";
    case SSH_CHANNEL_AUTH_AGENT:
      return "auth-agent";
    default:
      return "other";
  }
}

// "ip" of "ip:port" or "[v6]:port".
std::string HostOf(absl::string_view address) {
  if (!address.empty() && address.front() == '[') {
    size_t close = address.find(']');
    if (close == absl::string_view::npos) return std::string(address);
    return std::string(address.substr(1, close - 1));
  }
  return std::string(address.substr(0, address.rfind(':')));
}

// The method of an auth request's subtype (none for "none" and the
// methods we do not offer).
std::optional<AuthMethod> MethodOf(int subtype) {
  switch (subtype) {
    case SSH_AUTH_METHOD_PASSWORD:
      return AuthMethod::kPassword;
    case SSH_AUTH_METHOD_INTERACTIVE:
      return AuthMethod::kKeyboardInteractive;
    case SSH_AUTH_METHOD_PUBLICKEY:
      return AuthMethod::kPublicKey;
    default:
      return std::nullopt;
  }
}

// libssh 0.10 marks the message accessors deprecated in favour of the
// server callbacks, which must answer at once; answering later needs the
// message (see connection.h).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
std::string MessagePassword(ssh_message message) {
  const char* password = ssh_message_auth_password(message);
  return password != nullptr ? password : "";
}
ssh_key MessagePublicKey(ssh_message message) {
  return ssh_message_auth_pubkey(message);
}
enum ssh_publickey_state_e MessageKeyState(ssh_message message) {
  return ssh_message_auth_publickey_state(message);
}
#pragma GCC diagnostic pop

}  // namespace

Connection::Connection(ServerContext* context, EventLoop* loop,
                       ssh_session session, std::string id,
                       std::string remote_address)
    : context_(context),
      loop_(loop),
      session_(session),
      id_(std::move(id)),
      remote_address_(std::move(remote_address)),
      remote_host_(HostOf(remote_address_)),
      started_(absl::Now()),
      hash_budget_(std::make_shared<sftp::HashBudget>(
          context->sftp_limits.max_hash_bytes)) {
  server_callbacks_ = {};
  GetSshMetrics().connections_total->Increment();
  GetSshMetrics().connections_open->Add(1);
}

Connection::~Connection() {
  // Destroying a channel calls into libssh, which may poll and run this
  // connection's callbacks: tearing_down_ makes them refuse everything, and
  // the channels are moved out so that nothing iterates a changing vector.
  tearing_down_ = true;
  std::vector<std::unique_ptr<SftpChannel>> channels;
  channels.swap(channels_);
  for (auto& channel : channels) channel->Abort();
  channels.clear();
  if (pending_message_ != nullptr) ssh_message_free(pending_message_);
  if (!disconnect_reason_.empty()) {
    ssh_session_set_disconnect_message(session_, disconnect_reason_.c_str());
  }
  if (event_ != nullptr) {
    // libssh 0.10's ssh_disconnect queues SSH_MSG_DISCONNECT and closes the
    // socket without flushing: the message leaves only if libssh already
    // knows the socket is writable (a poll saw POLLOUT since its last
    // write). Two polls that never wait: the first writes what is pending
    // (channel closes), the second sees POLLOUT again. A client that is
    // not reading just misses the message.
    ssh_event_dopoll(event_, 0);
    ssh_event_dopoll(event_, 0);
    ssh_event_remove_session(event_, session_);
    ssh_event_free(event_);
  }
  // Before the socket closes: a client that reconnects at once must find
  // the ban in place.
  if (!authenticated_ && penalty_due_) Penalize();
  ssh_disconnect(session_);
  ssh_free(session_);
  startup_slot_.reset();
  if (holds_user_slot_) context_->user_sessions->Release(identity_);
  if (authenticated_) {
    GetSshMetrics().sessions_open->Add(-1);
    if (context_->events != nullptr) {
      v1::Event event = NewEvent(v1::EVENT_KIND_LOGOUT, SessionProto());
      event.set_reason(end_reason_);
      event.set_duration_ms(absl::ToInt64Milliseconds(absl::Now() - started_));
      context_->events->Publish(std::move(event));
    }
  }
  GetSshMetrics().connections_open->Add(-1);
  context_->live_connections.fetch_sub(1);
  LogEvent(quiet_ ? LogLevel::kDebug : LogLevel::kInfo, "session_end",
           {{"session", id_},
            {"user", identity_.user},
            {"remote", remote_address_},
            {"reason", end_reason_},
            {"seconds",
             absl::StrCat(absl::ToInt64Seconds(absl::Now() - started_))}});
}

absl::Status Connection::Start() {
  if (context_->throttle != nullptr &&
      context_->throttle->IsBanned(remote_host_, started_)) {
    // No key exchange, no log line per attempt: the ban was logged once.
    quiet_ = true;
    HoldThenClose(started_);
    return absl::OkStatus();
  }
  if (context_->startups != nullptr) {
    StartupLimiter::Refusal refusal;
    startup_slot_ = context_->startups->TryAcquire(remote_host_, &refusal);
    if (startup_slot_ == nullptr) {
      // Closed before the banner, like OpenSSH past MaxStartups. One log
      // line per rejection would let a flood fill the log: debug only,
      // with the counter as the signal.
      quiet_ = true;
      const bool total = refusal == StartupLimiter::Refusal::kTotal;
      (total ? GetSshMetrics().rejected_max_startups
             : GetSshMetrics().rejected_max_startups_per_source)
          ->Increment();
      end_reason_ =
          total ? "max_startups reached" : "max_startups_per_source reached";
      return absl::ResourceExhaustedError(end_reason_);
    }
  }
  LogEvent(LogLevel::kInfo, "session_start",
           {{"session", id_}, {"remote", remote_address_}});
  ssh_set_blocking(session_, 0);
  ssh_set_auth_methods(session_, SSH_AUTH_METHOD_PASSWORD |
                                     SSH_AUTH_METHOD_PUBLICKEY |
                                     SSH_AUTH_METHOD_INTERACTIVE);
  // Non-blocking: sends our banner and returns; the exchange continues in
  // the event's polls.
  if (ssh_handle_key_exchange(session_) == SSH_ERROR) {
    end_reason_ = absl::StrCat("key exchange: ", ssh_get_error(session_));
    return absl::UnavailableError(end_reason_);
  }
  event_ = ssh_event_new();
  if (event_ == nullptr || ssh_event_add_session(event_, session_) != SSH_OK) {
    end_reason_ = "cannot create the session's event";
    return absl::InternalError(end_reason_);
  }
  return absl::OkStatus();
}

short Connection::PollEvents() const {
  // Not polled while held (banned) or while a verdict is pending.
  if (event_ == nullptr || held_ || pending_message_ != nullptr) return 0;
  // libssh keeps unsent output in its buffer until a poll says the socket
  // is writable.
  return POLLIN |
         ((ssh_get_status(session_) & SSH_WRITE_PENDING) ? POLLOUT : 0);
}

void Connection::OnPollResult(short revents) {
  if (revents == 0) return;
  if (!authenticated_) input_seen_ = true;
  if (ssh_event_dopoll(event_, 0) == SSH_OK && authenticated_) {
    TakeWaitingInput();
  }
}

// libssh 0.10.6 reads at most 4 KiB of the socket per poll of the session's
// event (MAX_BUF_SIZE in its socket.c). Left to the loop, a bulk upload
// costs a loop round, two polls (the loop's, then libssh's own) and a recv
// per 4 KiB. When the kernel already holds more, libssh is polled again at
// once: one poll and one recv per 4 KiB, and a single ioctl per round for
// a small request that has nothing behind it. Bounded per round so that
// the loop's other connections get their turn; stops when the session
// stops taking input (PollEvents) or libssh reports nothing more.
void Connection::TakeWaitingInput() {
  constexpr int kLibsshReadSize = 4096;
  constexpr int kMaxReadsPerRound = 64;  // 256 KiB: one full-size WRITE
  int waiting = 0;
  if (ioctl(fd(), FIONREAD, &waiting) != 0) return;
  for (int reads = 0; waiting > 0 && reads < kMaxReadsPerRound; ++reads) {
    if ((PollEvents() & POLLIN) == 0) return;
    if (ssh_event_dopoll(event_, 0) != SSH_OK) return;
    waiting -= kLibsshReadSize;
  }
}

void Connection::RequestDisconnect(std::string reason) {
  if (disconnect_reason_.empty()) disconnect_reason_ = std::move(reason);
}

void Connection::NoteTraffic(size_t bytes_in, size_t bytes_out) {
  traffic_seen_ = true;
  if (bytes_in > 0) GetSshMetrics().bytes_in->Increment(bytes_in);
  if (bytes_out > 0) GetSshMetrics().bytes_out->Increment(bytes_out);
}

size_t Connection::OutputBacklog() const {
  size_t total = 0;
  for (const auto& channel : channels_) total += channel->Backlog();
  return total;
}

void Connection::HoldThenClose(absl::Time now) {
  GetSshMetrics().rejected_banned->Increment();
  held_ = true;
  hold_until_ = now + context_->limits.ban_delay;
}

bool Connection::Service(absl::Time now, bool* busy, absl::Time* wake_by) {
  if (held_) {
    if (now < hold_until_) {
      *wake_by = std::min(*wake_by, hold_until_);
      return true;
    }
    end_reason_ = "source address banned";
    return false;
  }
  int status = ssh_get_status(session_);
  if (status & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
    if (status & SSH_CLOSED_ERROR) {
      const char* error = ssh_get_error(session_);
      if (error != nullptr && error[0] != '\0') end_reason_ = error;
    }
    return false;
  }
  if (!authenticated_ && now - started_ > context_->limits.login_grace) {
    RequestDisconnect("login grace time exceeded");
  }
  if (input_seen_ && pending_message_ == nullptr &&
      disconnect_reason_.empty()) {
    PumpMessages();
    if (held_) return true;
  }
  // Index loop: a channel's libssh calls may run OnChannelOpen, which
  // appends to channels_.
  for (size_t i = 0; i < channels_.size();) {
    if (!channels_[i]->Service(busy)) {
      ++i;
      continue;
    }
    std::unique_ptr<SftpChannel> done = std::move(channels_[i]);
    channels_.erase(channels_.begin() + i);
    done.reset();
  }
  if (authenticated_) CheckIdle(now);
  if (context_->draining.load(std::memory_order_relaxed) &&
      (!authenticated_ ||
       now - last_activity_ >= context_->limits.drain_quiet)) {
    RequestDisconnect("server shutting down");
  }
  if (!disconnect_reason_.empty()) {
    end_reason_ = disconnect_reason_;
    return false;
  }
  return true;
}

void Connection::CheckIdle(absl::Time now) {
  bool active = traffic_seen_;
  traffic_seen_ = false;
  for (const auto& channel : channels_) {
    if (channel->InFlight() > 0) active = true;
  }
  if (active) {
    last_activity_ = now;
    return;
  }
  const absl::Duration limit = context_->limits.idle_timeout;
  if (limit > absl::ZeroDuration() && now - last_activity_ >= limit) {
    RequestDisconnect("idle timeout");
  }
}

v1::Session Connection::SessionProto() const {
  v1::Session session;
  session.set_session_id(id_);
  session.set_user(identity_.user);
  session.set_remote_address(remote_address_);
  session.set_client_version(client_version_);
  session.set_root(identity_.root);
  session.set_read_only(identity_.read_only);
  session.set_tenant(identity_.tenant);
  session.mutable_attributes()->insert(identity_.attributes.begin(),
                                       identity_.attributes.end());
  return session;
}

SftpSessionOptions Connection::NewSftpSessionOptions() const {
  SftpSessionOptions options;
  options.session = SessionProto();
  options.events = context_->events;
  options.quota = identity_.limits;
  if (identity_.limits.has_quota() && context_->quota_ledgers != nullptr) {
    options.quota_ledger =
        context_->quota_ledgers->For(identity_.user, identity_.root);
  }
  if (context_->rate_limits != nullptr) {
    UserRateLimits::Limiters rates =
        context_->rate_limits->For(identity_.user, identity_.limits);
    options.upload_rate = std::move(rates.upload);
    options.download_rate = std::move(rates.download);
  }
  options.backend = backend::GrpcBackendClientFactory(backend_);
  options.executor = loop_;
  options.limits = context_->sftp_limits;
  options.total_transfer_budget = context_->transfer_budget;
  options.hash_budget = hash_budget_;
  return options;
}

// ---------------------------------------------------------------------------
// Requests libssh queued (everything before authentication; see the header).

void Connection::PumpMessages() {
  input_seen_ = false;
  while (pending_message_ == nullptr && !held_ && disconnect_reason_.empty()) {
    // Pops a queued request, or polls the session once without waiting.
    ssh_message message = ssh_message_get(session_);
    if (message == nullptr) return;
    HandleQueuedMessage(message);
  }
}

void Connection::HandleQueuedMessage(ssh_message message) {
  int type = ssh_message_type(message);
  if (type == SSH_REQUEST_AUTH && !authenticated_) {
    HandleAuthRequest(message);  // takes the message
    return;
  }
  // Sent before the switch to callbacks (a client that did not wait for
  // the auth reply): answer as the callbacks would.
  if (authenticated_ && type == SSH_REQUEST_CHANNEL_OPEN &&
      ssh_message_subtype(message) == SSH_CHANNEL_SESSION) {
    ssh_channel channel = OnChannelOpen(session_, this);
    if (channel != nullptr) {
      ssh_message_channel_request_open_reply_accept_channel(message, channel);
    } else {
      ssh_message_reply_default(message);
    }
  } else if (OnMessage(session_, message, this) != 0) {
    ssh_message_reply_default(message);
  }
  ssh_message_free(message);
}

void Connection::HandleAuthRequest(ssh_message message) {
  const int subtype = ssh_message_subtype(message);
  if (context_->throttle != nullptr &&
      context_->throttle->IsBanned(remote_host_, absl::Now())) {
    if (std::optional<AuthMethod> method = MethodOf(subtype)) {
      GetSshMetrics().auth(*method, AuthResult::kBanned)->Increment();
    }
    ssh_message_free(message);
    HoldThenClose(absl::Now());
    return;
  }
  const char* user = ssh_message_auth_user(message);
  AuthAttempt attempt;
  attempt.user = user != nullptr ? user : "";
  switch (subtype) {
    case SSH_AUTH_METHOD_PASSWORD:
      attempt.method = AuthMethod::kPassword;
      attempt.password = MessagePassword(message);
      return BeginAttempt(message, std::move(attempt));
    case SSH_AUTH_METHOD_PUBLICKEY: {
      attempt.method = AuthMethod::kPublicKey;
      enum ssh_publickey_state_e state = MessageKeyState(message);
      ssh_key key = MessagePublicKey(message);
      if ((state == SSH_PUBLICKEY_STATE_NONE ||
           state == SSH_PUBLICKEY_STATE_VALID) &&
          key != nullptr) {
        // libssh verified the signature (VALID), or there is none yet (a
        // probe). A copy: the attempt may outlive the message.
        attempt.public_key.reset(ssh_key_dup(key), ssh_key_free);
        attempt.signature_verified = state == SSH_PUBLICKEY_STATE_VALID;
        if (attempt.public_key != nullptr) {
          return BeginAttempt(message, std::move(attempt));
        }
      }
      RecordFailure(attempt.method, attempt.user, "bad signature",
                    Failure::kRefused);
      break;
    }
    case SSH_AUTH_METHOD_INTERACTIVE:
      if (!ssh_message_auth_kbdint_is_response(message)) {
        // One prompt; the answer is checked like a password.
        kbdint_user_ = attempt.user;
        const char* prompts[] = {"Password: "};
        char echo[] = {0};
        ssh_message_auth_interactive_request(message, "", "", 1, prompts, echo);
        ssh_message_free(message);
        return;
      }
      attempt.method = AuthMethod::kKeyboardInteractive;
      attempt.user = kbdint_user_;
      if (ssh_userauth_kbdint_getnanswers(session_) == 1) {
        const char* answer = ssh_userauth_kbdint_getanswer(session_, 0);
        attempt.password = answer != nullptr ? answer : "";
        return BeginAttempt(message, std::move(attempt));
      }
      RecordFailure(attempt.method, attempt.user, "wrong number of answers",
                    Failure::kRefused);
      break;
    default:
      break;  // "none" and methods we do not offer
  }
  // Failure, listing the methods that remain.
  ssh_message_reply_default(message);
  ssh_message_free(message);
}

void Connection::BeginAttempt(ssh_message message, AuthAttempt attempt) {
  pending_message_ = message;
  pending_method_ = attempt.method;
  pending_user_ = attempt.user;
  pending_probe_ =
      attempt.method == AuthMethod::kPublicKey && !attempt.signature_verified;
  pending_key_fingerprint_ = attempt.public_key != nullptr
                                 ? KeyFingerprint(attempt.public_key.get())
                                 : "";
  const char* banner = ssh_get_clientbanner(session_);
  client_version_ = banner != nullptr ? banner : "";
  attempt.client_version = client_version_;
  attempt.remote_address = remote_address_;
  attempt.session_id = id_;
  // Not polled until the verdict is in (PollEvents): the client cannot
  // queue more.
  context_->auth->Authenticate(
      std::move(attempt),
      [this, loop = loop_,
       alive = std::weak_ptr<int>(alive_)](AuthVerdict verdict) mutable {
        loop->Post([this, alive, verdict = std::move(verdict)]() mutable {
          if (alive.lock() != nullptr) OnVerdict(std::move(verdict));
        });
      });
}

void Connection::OnVerdict(AuthVerdict verdict) {
  ssh_message message = std::exchange(pending_message_, nullptr);
  if (message == nullptr) return;
  if (tearing_down_ || !disconnect_reason_.empty()) {
    ssh_message_free(message);
    return;
  }
  if (pending_probe_) {
    // "Would you take this key?": yes makes the client sign with it; it
    // authenticates nobody yet.
    if (verdict.accepted) {
      ssh_message_auth_reply_pk_ok_simple(message);
    } else {
      RecordFailure(
          pending_method_, pending_user_, verdict.reason,
          verdict.unavailable ? Failure::kUnavailable : Failure::kProbe);
      ssh_message_reply_default(message);
    }
  } else if (!verdict.accepted) {
    RecordFailure(
        pending_method_, pending_user_, verdict.reason,
        verdict.unavailable ? Failure::kUnavailable : Failure::kRefused);
    ssh_message_reply_default(message);
  } else {
    if (verdict.identity.user.empty()) verdict.identity.user = pending_user_;
    if (context_->user_sessions != nullptr &&
        !context_->user_sessions->TryAcquire(verdict.identity)) {
      LogEvent(LogLevel::kWarning, "session_rejected",
               {{"session", id_},
                {"user", verdict.identity.user},
                {"remote", remote_address_},
                {"reason", "max_sessions_per_user reached"}});
      ssh_message_reply_default(message);
      GetSshMetrics().rejected_max_sessions_per_user->Increment();
      RequestDisconnect("max_sessions_per_user reached");
    } else {
      holds_user_slot_ = context_->user_sessions != nullptr;
      Succeed(message, std::move(verdict.identity));
    }
  }
  ssh_message_free(message);
  // Requests may have been queued before polling stopped.
  input_seen_ = true;
}

void Connection::RecordFailure(AuthMethod method, absl::string_view user,
                               absl::string_view reason, Failure failure) {
  ++auth_failures_;
  GetSshMetrics().auth(method, AuthResult::kFail)->Increment();
  LogEvent(LogLevel::kWarning, "auth",
           {{"session", id_},
            {"user", std::string(user)},
            {"remote", remote_address_},
            {"method", AuthMethodName(method)},
            {"result", "fail"},
            {"reason", std::string(reason)},
            {"failures", absl::StrCat(auth_failures_)}});
  if (failure == Failure::kRefused) penalty_due_ = true;
  if (auth_failures_ >= context_->limits.max_auth_tries) {
    RequestDisconnect("too many authentication failures");
  }
}

void Connection::Penalize() {
  if (context_->throttle == nullptr ||
      !context_->throttle->RecordFailure(remote_host_, absl::Now())) {
    return;
  }
  GetSshMetrics().auth_bans->Increment();
  const AuthThrottleOptions& throttle = context_->throttle->options();
  LogEvent(
      LogLevel::kWarning, "auth_ban",
      {{"address", context_->throttle->SourceOf(remote_host_)},
       {"failures", absl::StrCat(throttle.max_failures)},
       {"window_seconds", absl::StrCat(absl::ToInt64Seconds(throttle.window))},
       {"ban_seconds", absl::StrCat(absl::ToInt64Seconds(throttle.ban))},
       {"last_remote", remote_address_}});
}

void Connection::Succeed(ssh_message message, Identity identity) {
  authenticated_ = true;
  startup_slot_.reset();
  identity_ = std::move(identity);
  backend_ = context_->backends->StubFor(identity_);
  last_activity_ = absl::Now();
  const SshMetrics& metrics = GetSshMetrics();
  metrics.auth(pending_method_, AuthResult::kOk)->Increment();
  metrics.sessions_total->Increment();
  metrics.sessions_open->Add(1);
  // The public key's fingerprint (not the key) tells which key was used.
  LogEvent(LogLevel::kInfo, "auth",
           {{"session", id_},
            {"user", identity_.user},
            {"remote", remote_address_},
            {"method", AuthMethodName(pending_method_)},
            {"result", "ok"},
            {"key", pending_key_fingerprint_},
            {"tenant", identity_.tenant},
            {"backend", context_->backends->TargetFor(identity_)},
            {"client", client_version_}});
  ssh_message_auth_reply_success(message, 0);
  if (context_->events != nullptr) {
    context_->events->Publish(NewEvent(v1::EVENT_KIND_LOGIN, SessionProto()));
  }
  // From now on libssh's callbacks handle requests as they arrive.
  ssh_callbacks_init(&server_callbacks_);
  server_callbacks_.userdata = this;
  server_callbacks_.channel_open_request_session_function =
      &Connection::OnChannelOpen;
  ssh_set_server_callbacks(session_, &server_callbacks_);
  ssh_set_message_callback(session_, &Connection::OnMessage, this);
}

// ---------------------------------------------------------------------------
// After authentication: libssh callbacks.

int Connection::OnMessage(ssh_session, ssh_message message, void* self) {
  Connection* c = Self(self);
  int type = ssh_message_type(message);
  int subtype = ssh_message_subtype(message);
  if (type == SSH_REQUEST_CHANNEL_OPEN) {
    LogEvent(LogLevel::kInfo, "channel_open_refused",
             {{"session", c->id_},
              {"user", c->identity_.user},
              {"type", ChannelTypeName(subtype)}});
  } else if (type == SSH_REQUEST_CHANNEL) {
    LogEvent(LogLevel::kInfo, "channel_request_refused",
             {{"session", c->id_},
              {"user", c->identity_.user},
              {"request", absl::StrCat("type ", subtype)}});
  } else if (type == SSH_REQUEST_GLOBAL &&
             subtype != SSH_GLOBAL_REQUEST_KEEPALIVE) {
    LogEvent(LogLevel::kInfo, "global_request_refused",
             {{"session", c->id_}, {"user", c->identity_.user}});
  }
  // Everything else (auth after success, forwarding, x11, ...) gets
  // libssh's default reply: failure (or acceptance of the ssh-userauth
  // service).
  return 1;
}

ssh_channel Connection::OnChannelOpen(ssh_session, void* self) {
  Connection* c = Self(self);
  if (!c->authenticated_ || !c->disconnect_reason_.empty() ||
      c->tearing_down_) {
    return nullptr;
  }
  if (static_cast<int>(c->channels_.size()) >=
      c->context_->limits.max_channels) {
    LogEvent(LogLevel::kWarning, "channel_open_refused",
             {{"session", c->id_},
              {"user", c->identity_.user},
              {"type", "session"},
              {"reason", "too many channels"}});
    return nullptr;
  }
  ssh_channel channel = ssh_channel_new(c->session_);
  if (channel == nullptr) return nullptr;
  c->channels_.push_back(std::make_unique<SftpChannel>(c, channel));
  return channel;
}

}  // namespace sftpgate::server
