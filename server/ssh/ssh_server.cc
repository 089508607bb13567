#include "server/ssh/ssh_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/log.h"
#include "server/ssh/host_key.h"
#include "server/ssh/ssh_metrics.h"

namespace sftpgate::server {
namespace {

// AEAD first (AES-NI makes GCM the fastest here), then CTR with ETM MACs.
constexpr char kCiphers[] =
    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
    "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr";
// Non-ETM SHA-2 MACs kept for clients that lack ETM; no SHA-1.
constexpr char kMacs[] =
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512";
constexpr char kKex[] =
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
    "diffie-hellman-group16-sha512,diffie-hellman-group14-sha256";
constexpr char kHostKeyAlgorithms[] = "ssh-ed25519,rsa-sha2-512,rsa-sha2-256";
// Signature algorithms accepted for user public keys (no "ssh-rsa" SHA-1).
constexpr char kUserKeyAlgorithms[] =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
    "ecdsa-sha2-nistp521,sk-ssh-ed25519@openssh.com,"
    "sk-ecdsa-sha2-nistp256@openssh.com,rsa-sha2-512,rsa-sha2-256";

// "ip:port", or "[v6]:port".
std::string AddressText(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    return absl::StrCat(host, ":", ntohs(in->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    return absl::StrCat("[", host, "]:", ntohs(in6->sin6_port));
  }
  return "unknown";
}

uint16_t LocalPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

}  // namespace

SshServer::SshServer(ServerContext* context, SshServerOptions options,
                     ssh_key host_key)
    : context_(context),
      options_(std::move(options)),
      host_key_(host_key),
      host_key_type_(ssh_key_type(host_key)) {
  std::random_device random;
  id_prefix_ = random();
}

SshServer::~SshServer() {
  Stop();
  if (bind_ != nullptr) ssh_bind_free(bind_);
  if (host_key_ != nullptr) ssh_key_free(host_key_);
  if (stop_fd_ >= 0) close(stop_fd_);
}

absl::Status SshServer::ConfigureBind() {
  enum ssh_keytypes_e key_type = ssh_key_type(host_key_);
  if (key_type != SSH_KEYTYPE_ED25519 && key_type != SSH_KEYTYPE_RSA) {
    return absl::InvalidArgumentError(
        absl::StrCat("host key type ", ssh_key_type_to_char(key_type),
                     " is not supported; use ed25519 (or rsa)"));
  }
  std::string fingerprint = KeyFingerprint(host_key_);
  bool no = false;
  std::string port = absl::StrCat(options_.port);
  struct Option {
    enum ssh_bind_options_e type;
    const void* value;
    const char* what;
  };
  const Option settings[] = {
      // Before anything else: otherwise ssh_bind_accept reads
      // /etc/ssh/libssh_server_config.
      {SSH_BIND_OPTIONS_PROCESS_CONFIG, &no, "process config"},
      {SSH_BIND_OPTIONS_BINDADDR, options_.host.c_str(), "bind address"},
      {SSH_BIND_OPTIONS_BINDPORT_STR, port.c_str(), "bind port"},
      {SSH_BIND_OPTIONS_CIPHERS_C_S, kCiphers, "ciphers"},
      {SSH_BIND_OPTIONS_CIPHERS_S_C, kCiphers, "ciphers"},
      {SSH_BIND_OPTIONS_HMAC_C_S, kMacs, "MACs"},
      {SSH_BIND_OPTIONS_HMAC_S_C, kMacs, "MACs"},
      {SSH_BIND_OPTIONS_KEY_EXCHANGE, kKex, "key exchange"},
      {SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, kHostKeyAlgorithms,
       "host key algorithms"},
      {SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES, kUserKeyAlgorithms,
       "public key algorithms"},
      {SSH_BIND_OPTIONS_BANNER, "sftpgate", "banner"},
  };
  for (const Option& option : settings) {
    if (ssh_bind_options_set(bind_, option.type, option.value) != SSH_OK) {
      return absl::InternalError(
          absl::StrCat("libssh rejected the ", option.what,
                       " setting: ", ssh_get_error(bind_)));
    }
  }
  // The bind takes ownership of the key.
  if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_IMPORT_KEY, host_key_) !=
      SSH_OK) {
    return absl::InternalError(
        absl::StrCat("libssh rejected the host key: ", ssh_get_error(bind_)));
  }
  host_key_ = nullptr;
  LogEvent(LogLevel::kInfo, "host_key", {{"fingerprint", fingerprint}});
  return absl::OkStatus();
}

absl::Status SshServer::Listen() {
  if (bind_ != nullptr) return absl::OkStatus();
  bind_ = ssh_bind_new();
  if (bind_ == nullptr) return absl::InternalError("ssh_bind_new failed");
  absl::Status status = ConfigureBind();
  if (!status.ok()) return status;
  if (ssh_bind_listen(bind_) != SSH_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port,
                     ": ", ssh_get_error(bind_)));
  }
  const int listen_fd = ssh_bind_get_fd(bind_);
  bound_port_ = LocalPort(listen_fd);
  // poll() says when to accept; non-blocking so that a connection reset
  // between poll and accept cannot block the acceptor (accepted sockets do
  // not inherit the flag, as libssh expects).
  fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
  return absl::OkStatus();
}

absl::Status SshServer::Start() {
  absl::Status status = Listen();
  if (!status.ok()) return status;
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (stop_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  if (options_.proxy.required) {
    proxy_ = std::make_unique<ProxyHandshakes>(
        options_.proxy, [this](int fd, std::string remote) {
          AdoptSocket(fd, std::move(remote));
        });
    status = proxy_->Start();
    if (!status.ok()) return status;
  }
  for (int i = 0; i < options_.loop_threads; ++i) {
    loops_.push_back(std::make_unique<ConnectionLoop>(
        context_, absl::StrCat("sftpgate-loop", i)));
    status = loops_.back()->Start();
    if (!status.ok()) return status;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
  LogEvent(LogLevel::kInfo, "listening",
           {{"address", options_.host},
            {"port", absl::StrCat(bound_port_)},
            {"loops", absl::StrCat(options_.loop_threads)},
            {"proxy_protocol", options_.proxy.required ? "required" : "off"}});
  return absl::OkStatus();
}

absl::Status SshServer::ReplaceHostKey(ssh_key host_key) {
  if (ssh_key_type(host_key) != host_key_type_) {
    std::string type = ssh_key_type_to_char(ssh_key_type(host_key));
    ssh_key_free(host_key);
    return absl::FailedPreconditionError(absl::StrCat(
        "the new host key is of type ", type, ", the current one of type ",
        ssh_key_type_to_char(host_key_type_),
        "; restart to change the key type"));
  }
  absl::MutexLock lock(&bind_mu_);
  // The bind takes ownership and frees the key it replaces.
  if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_IMPORT_KEY, host_key) !=
      SSH_OK) {
    ssh_key_free(host_key);
    return absl::InternalError(
        absl::StrCat("libssh rejected the host key: ", ssh_get_error(bind_)));
  }
  return absl::OkStatus();
}

void SshServer::StopAccepting() {
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
  }
  if (acceptor_.joinable()) acceptor_.join();
  // Connections still sending their PROXY header are not taken any more.
  if (proxy_ != nullptr) proxy_->Stop();
  // Stop listening, so that new clients are refused at once (and a load
  // balancer moves on) rather than queued in the backlog until the process
  // exits. The bind keeps the descriptor and closes it when freed.
  if (bind_ != nullptr && !listen_shut_down_) {
    listen_shut_down_ = true;
    shutdown(ssh_bind_get_fd(bind_), SHUT_RDWR);
  }
}

int SshServer::LiveConnections() const {
  return context_->live_connections.load();
}

void SshServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  StopAccepting();
  for (auto& loop : loops_) loop->Stop();
  for (auto& loop : loops_) loop->Join();
  loops_.clear();
}

void SshServer::AcceptLoop() {
  pthread_setname_np(pthread_self(), "sftpgate-accept");
  const int listen_fd = ssh_bind_get_fd(bind_);
  while (true) {
    pollfd fds[2] = {{listen_fd, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      LogEvent(LogLevel::kError, "accept_failed", {{"error", strerror(errno)}});
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents != 0) AcceptOne();
  }
}

void SshServer::AcceptOne() {
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  // Blocking (as libssh expects): the flag of the listening socket is not
  // inherited by accept4.
  const int fd =
      accept4(ssh_bind_get_fd(bind_), reinterpret_cast<sockaddr*>(&peer),
              &length, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      LogEvent(LogLevel::kWarning, "accept_failed",
               {{"error", strerror(errno)}});
    }
    return;
  }
  if (proxy_ != nullptr) return proxy_->Add(fd, peer, AddressText(peer));
  AdoptSocket(fd, AddressText(peer));
}

void SshServer::AdoptSocket(int fd, std::string remote) {
  ssh_session session = ssh_new();
  if (session == nullptr) {
    close(fd);
    return;
  }
  std::string id;
  int accepted;
  {
    absl::MutexLock lock(&bind_mu_);
    accepted = ssh_bind_accept_fd(bind_, session, fd);
    id = absl::StrFormat("%08x-%d", id_prefix_, next_id_++);
  }
  if (accepted != SSH_OK) {
    LogEvent(LogLevel::kWarning, "accept_failed",
             {{"remote", remote}, {"error", ssh_get_error(bind_)}});
    // The session owns the socket once libssh attached it.
    if (ssh_get_fd(session) != fd) close(fd);
    ssh_free(session);
    return;
  }
  // Without TCP_NODELAY uploads crawl: SFTP's small acks wait on Nagle +
  // delayed ACK (measured in docs/benchmarks.md, Analysis).
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // libssh writes its output buffer with one blocking send() after the
  // socket polled writable, so send() always moves some bytes at once; the
  // timeout makes it return the partial count instead of holding the loop
  // thread while a slow peer drains the rest.
  timeval send_timeout{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  if (context_->live_connections.fetch_add(1) >= options_.max_sessions) {
    context_->live_connections.fetch_sub(1);
    GetSshMetrics().rejected_max_sessions->Increment();
    LogEvent(LogLevel::kWarning, "session_rejected",
             {{"remote", remote}, {"reason", "max_sessions reached"}});
    ssh_disconnect(session);
    ssh_free(session);
    return;
  }
  ConnectionLoop* target = loops_.front().get();
  for (auto& loop : loops_) {
    if (loop->load() < target->load()) target = loop.get();
  }
  target->Adopt(session, std::move(id), std::move(remote));
}

}  // namespace sftpgate::server
