#include "server/ssh/proxy_handshakes.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/log.h"
#include "server/common/metrics.h"

namespace sftpgate::server {
namespace {

Counter* Outcome(const char* result) {
  return Metrics::Global().GetCounter(
      "sftpgate_proxy_headers_total",
      "Connections on a PROXY-protocol listener by outcome: ok, local "
      "(balancer's own connection), untrusted_source, bad_header, timeout, "
      "closed, too_many",
      {{"result", result}});
}

void SetNonBlocking(int fd, bool on) {
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK);
}

}  // namespace

ProxyHandshakes::ProxyHandshakes(ProxyProtocolOptions options, Ready ready)
    : options_(std::move(options)), ready_(std::move(ready)) {
  // Registered up front: a scrape shows every outcome, at 0.
  for (const char* result : {"ok", "local", "untrusted_source", "bad_header",
                             "timeout", "closed", "too_many"}) {
    Outcome(result);
  }
}

ProxyHandshakes::~ProxyHandshakes() {
  Stop();
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status ProxyHandshakes::Start() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", strerror(errno)));
  }
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sftpgate-proxy");
    Run();
  });
  return absl::OkStatus();
}

void ProxyHandshakes::Reject(int fd, const std::string& peer,
                             const char* result, const std::string& why) {
  close(fd);
  Outcome(result)->Increment();
  LogEvent(LogLevel::kWarning, "proxy_header_rejected",
           {{"remote", peer}, {"result", result}, {"reason", why}});
}

void ProxyHandshakes::Add(int fd, const sockaddr_storage& peer,
                          const std::string& peer_text) {
  if (!options_.sources.Contains(peer)) {
    return Reject(fd, peer_text, "untrusted_source",
                  "not in proxy_protocol_sources");
  }
  auto pending = std::make_unique<Pending>();
  pending->fd = fd;
  pending->peer = peer_text;
  pending->deadline = absl::Now() + options_.timeout;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && pending_count_ < options_.max_pending) {
      ++pending_count_;
      SetNonBlocking(fd, true);
      added_.push_back(std::move(pending));
      fd = -1;
    }
  }
  if (fd >= 0) {
    return Reject(fd, peer_text, "too_many",
                  "too many connections waiting for their header");
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

bool ProxyHandshakes::Advance(Pending& pending) {
  while (pending.header.state() == ProxyHeader::State::kNeedMore) {
    char buffer[ProxyHeader::kMaxV2Length];
    const size_t wanted = std::min(pending.header.Wanted(), sizeof(buffer));
    const ssize_t n = recv(pending.fd, buffer, wanted, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Reject(pending.fd, pending.peer, "closed",
             n == 0 ? "closed before the end of the header" : strerror(errno));
      return true;
    }
    pending.header.Feed(absl::string_view(buffer, static_cast<size_t>(n)));
  }
  if (pending.header.state() == ProxyHeader::State::kError) {
    Reject(pending.fd, pending.peer, "bad_header", pending.header.error());
    return true;
  }
  const bool local = pending.header.source().empty();
  Outcome(local ? "local" : "ok")->Increment();
  LogEvent(LogLevel::kDebug, "proxy_header",
           {{"proxy", pending.peer},
            {"remote", local ? pending.peer : pending.header.source()},
            {"version", absl::StrCat(pending.header.version())}});
  SetNonBlocking(pending.fd, false);  // as libssh expects
  ready_(pending.fd, local ? pending.peer : pending.header.source());
  return true;
}

void ProxyHandshakes::Run() {
  std::vector<std::unique_ptr<Pending>> pending;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      for (auto& p : added_) pending.push_back(std::move(p));
      added_.clear();
    }
    // Expired ones go first; the earliest deadline bounds the wait.
    const absl::Time now = absl::Now();
    absl::Time next = absl::InfiniteFuture();
    std::vector<pollfd> fds = {{wake_fd_, POLLIN, 0}};
    size_t done = 0;
    for (auto& p : pending) {
      if (p->deadline <= now) {
        Reject(p->fd, p->peer, "timeout",
               absl::StrCat("no complete header within ",
                            absl::FormatDuration(options_.timeout)));
        p.reset();
        ++done;
        continue;
      }
      next = std::min(next, p->deadline);
      fds.push_back({p->fd, POLLIN, 0});
    }
    pending.erase(std::remove(pending.begin(), pending.end(), nullptr),
                  pending.end());
    const int timeout_ms =
        next == absl::InfiniteFuture()
            ? -1
            : static_cast<int>(absl::ToInt64Milliseconds(
                  absl::Ceil(std::max(next - now, absl::ZeroDuration()),
                             absl::Milliseconds(1))));
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) {
      LogEvent(LogLevel::kError, "proxy_poll_failed",
               {{"error", strerror(errno)}});
    }
    if (fds[0].revents != 0) {
      uint64_t count;
      (void)!read(wake_fd_, &count, sizeof(count));
    }
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents == 0) continue;
      if (Advance(*pending[i - 1])) {
        pending[i - 1].reset();
        ++done;
      }
    }
    pending.erase(std::remove(pending.begin(), pending.end(), nullptr),
                  pending.end());
    if (done > 0) {
      absl::MutexLock lock(&mu_);
      pending_count_ -= done;
    }
  }
  for (auto& p : pending) close(p->fd);
}

void ProxyHandshakes::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& p : added_) close(p->fd);
    added_.clear();
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace sftpgate::server
