#include "server/ssh/connection.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/ssh/host_key.h"

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

}  // namespace

Connection::Connection(ServerContext* context, EventLoop* loop,
                       ssh_session session, std::string id,
                       std::string remote_address)
    : context_(context),
      loop_(loop),
      session_(session),
      id_(std::move(id)),
      remote_address_(std::move(remote_address)),
      started_(absl::Now()) {
  server_callbacks_ = {};
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
  if (in_event_) ssh_event_remove_session(loop_->event(), session_);
  if (!disconnect_reason_.empty()) {
    ssh_session_set_disconnect_message(session_, disconnect_reason_.c_str());
  }
  ssh_disconnect(session_);
  ssh_free(session_);
  context_->live_connections.fetch_sub(1);
  LogEvent(LogLevel::kInfo, "session_end",
           {{"session", id_},
            {"user", user_name_},
            {"remote", remote_address_},
            {"reason", end_reason_},
            {"seconds",
             absl::StrCat(absl::ToInt64Seconds(absl::Now() - started_))}});
}

absl::Status Connection::Start() {
  LogEvent(LogLevel::kInfo, "session_start",
           {{"session", id_}, {"remote", remote_address_}});
  ssh_set_blocking(session_, 0);
  ssh_callbacks_init(&server_callbacks_);
  server_callbacks_.userdata = this;
  server_callbacks_.auth_password_function = &Connection::OnAuthPassword;
  server_callbacks_.auth_pubkey_function = &Connection::OnAuthPubkey;
  server_callbacks_.channel_open_request_session_function =
      &Connection::OnChannelOpen;
  ssh_set_server_callbacks(session_, &server_callbacks_);
  // libssh 0.10 has no server callback for keyboard-interactive: it comes
  // through the message callback, with everything the callbacks above do
  // not handle.
  ssh_set_message_callback(session_, &Connection::OnMessage, this);
  ssh_set_auth_methods(session_, SSH_AUTH_METHOD_PASSWORD |
                                     SSH_AUTH_METHOD_PUBLICKEY |
                                     SSH_AUTH_METHOD_INTERACTIVE);
  // Non-blocking: sends our banner and returns; the exchange continues in
  // the event's callbacks.
  if (ssh_handle_key_exchange(session_) == SSH_ERROR) {
    end_reason_ = absl::StrCat("key exchange: ", ssh_get_error(session_));
    return absl::UnavailableError(end_reason_);
  }
  if (ssh_event_add_session(loop_->event(), session_) != SSH_OK) {
    end_reason_ = "cannot add session to event loop";
    return absl::InternalError(end_reason_);
  }
  in_event_ = true;
  return absl::OkStatus();
}

void Connection::RequestDisconnect(std::string reason) {
  if (disconnect_reason_.empty()) disconnect_reason_ = std::move(reason);
}

bool Connection::Service(absl::Time now, bool* busy) {
  int status = ssh_get_status(session_);
  if (status & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
    if (status & SSH_CLOSED_ERROR) {
      const char* error = ssh_get_error(session_);
      if (error != nullptr && error[0] != '\0') end_reason_ = error;
    }
    return false;
  }
  if (user_ == nullptr && now - started_ > context_->limits.login_grace) {
    RequestDisconnect("login grace time exceeded");
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
  if (!disconnect_reason_.empty()) {
    end_reason_ = disconnect_reason_;
    return false;
  }
  return true;
}

SftpSessionOptions Connection::NewSftpSessionOptions() const {
  SftpSessionOptions options;
  options.session.set_session_id(id_);
  options.session.set_user(user_->name);
  options.session.set_remote_address(remote_address_);
  options.session.set_client_version(client_version_);
  options.session.set_root(user_->root);
  options.session.set_read_only(user_->read_only);
  options.backend = context_->backend;
  options.executor = loop_;
  options.limits = context_->sftp_limits;
  return options;
}

// ---------------------------------------------------------------------------
// Authentication.

bool Connection::MayAttemptAuth() const {
  return user_ == nullptr && disconnect_reason_.empty() && !tearing_down_;
}

int Connection::Conclude(const UserRecord* user, const char* method,
                         absl::string_view attempted_user, const ssh_key key) {
  if (user != nullptr) {
    user_ = user;
    user_name_ = user->name;
    const char* banner = ssh_get_clientbanner(session_);
    client_version_ = banner != nullptr ? banner : "";
    // The public key's fingerprint (not the key) tells which key was used.
    LogEvent(LogLevel::kInfo, "auth",
             {{"session", id_},
              {"user", user_name_},
              {"remote", remote_address_},
              {"method", method},
              {"result", "ok"},
              {"key", key != nullptr ? KeyFingerprint(key) : ""},
              {"client", client_version_}});
    return SSH_AUTH_SUCCESS;
  }
  ++auth_failures_;
  LogEvent(LogLevel::kWarning, "auth",
           {{"session", id_},
            {"user", std::string(attempted_user)},
            {"remote", remote_address_},
            {"method", method},
            {"result", "fail"},
            {"failures", absl::StrCat(auth_failures_)}});
  if (auth_failures_ >= context_->limits.max_auth_tries) {
    RequestDisconnect("too many authentication failures");
  }
  return SSH_AUTH_DENIED;
}

int Connection::OnAuthPassword(ssh_session, const char* user,
                               const char* password, void* self) {
  Connection* c = Self(self);
  if (!c->MayAttemptAuth()) return SSH_AUTH_DENIED;
  const UserRecord* record = c->context_->auth->CheckPassword(
      user != nullptr ? user : "", password != nullptr ? password : "");
  return c->Conclude(record, "password", user != nullptr ? user : "");
}

int Connection::OnAuthPubkey(ssh_session, const char* user, ssh_key_struct* key,
                             char signature_state, void* self) {
  Connection* c = Self(self);
  if (!c->MayAttemptAuth()) return SSH_AUTH_DENIED;
  absl::string_view name = user != nullptr ? user : "";
  const UserRecord* record = c->context_->auth->CheckPublicKey(name, key);
  if (signature_state == SSH_PUBLICKEY_STATE_NONE) {
    // A probe ("would you take this key?"): success makes libssh answer
    // PK_OK and the client then signs; it authenticates nobody yet.
    if (record != nullptr) return SSH_AUTH_SUCCESS;
    return c->Conclude(nullptr, "publickey", name);
  }
  // libssh verified the signature; only a valid one counts.
  if (signature_state != SSH_PUBLICKEY_STATE_VALID) record = nullptr;
  return c->Conclude(record, "publickey", name, key);
}

int Connection::HandleKeyboardInteractive(ssh_message message) {
  if (!MayAttemptAuth()) return 1;
  if (!ssh_message_auth_kbdint_is_response(message)) {
    const char* user = ssh_message_auth_user(message);
    kbdint_user_ = user != nullptr ? user : "";
    const char* prompts[] = {"Password: "};
    char echo[] = {0};
    ssh_message_auth_interactive_request(message, "", "", 1, prompts, echo);
    return 0;
  }
  const UserRecord* record = nullptr;
  if (ssh_userauth_kbdint_getnanswers(session_) == 1) {
    const char* answer = ssh_userauth_kbdint_getanswer(session_, 0);
    record = context_->auth->CheckPassword(kbdint_user_,
                                           answer != nullptr ? answer : "");
  }
  if (Conclude(record, "keyboard-interactive", kbdint_user_) ==
      SSH_AUTH_SUCCESS) {
    ssh_message_auth_reply_success(message, 0);
    return 0;
  }
  return 1;  // default reply: failure, with the methods left
}

int Connection::OnMessage(ssh_session, ssh_message message, void* self) {
  Connection* c = Self(self);
  int type = ssh_message_type(message);
  int subtype = ssh_message_subtype(message);
  if (type == SSH_REQUEST_AUTH && subtype == SSH_AUTH_METHOD_INTERACTIVE) {
    return c->HandleKeyboardInteractive(message);
  }
  if (type == SSH_REQUEST_CHANNEL_OPEN) {
    LogEvent(LogLevel::kInfo, "channel_open_refused",
             {{"session", c->id_},
              {"user", c->user_name_},
              {"type", ChannelTypeName(subtype)}});
  } else if (type == SSH_REQUEST_CHANNEL) {
    LogEvent(LogLevel::kInfo, "channel_request_refused",
             {{"session", c->id_},
              {"user", c->user_name_},
              {"request", absl::StrCat("type ", subtype)}});
  } else if (type == SSH_REQUEST_GLOBAL &&
             subtype != SSH_GLOBAL_REQUEST_KEEPALIVE) {
    LogEvent(LogLevel::kInfo, "global_request_refused",
             {{"session", c->id_}, {"user", c->user_name_}});
  }
  // Everything else (auth "none", forwarding, x11, ...) gets libssh's
  // default reply: failure, or acceptance for the ssh-userauth service.
  return 1;
}

// ---------------------------------------------------------------------------
// Channels.

ssh_channel Connection::OnChannelOpen(ssh_session, void* self) {
  Connection* c = Self(self);
  if (c->user_ == nullptr || !c->disconnect_reason_.empty() ||
      c->tearing_down_) {
    return nullptr;
  }
  if (static_cast<int>(c->channels_.size()) >=
      c->context_->limits.max_channels) {
    LogEvent(LogLevel::kWarning, "channel_open_refused",
             {{"session", c->id_},
              {"user", c->user_name_},
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
