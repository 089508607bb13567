#include "server/ssh/connection_loop.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "server/common/log.h"

namespace sftpgate::server {
namespace {

// Longest poll wait: bounds how late login-grace and idle deadlines are
// noticed (short timers such as a ban's hold ask for an earlier round).
constexpr int kMaxPollWaitMs = 500;

// Frees an accepted session that never reached its loop (loop stopped).
struct UnadoptedSession {
  ssh_session session;
  ServerContext* context;
  UnadoptedSession(ssh_session s, ServerContext* c) : session(s), context(c) {}
  UnadoptedSession(UnadoptedSession&& other) noexcept
      : session(std::exchange(other.session, nullptr)),
        context(other.context) {}
  UnadoptedSession(const UnadoptedSession&) = delete;
  ~UnadoptedSession() {
    if (session == nullptr) return;
    ssh_disconnect(session);
    ssh_free(session);
    context->live_connections.fetch_sub(1);
  }
  ssh_session Release() { return std::exchange(session, nullptr); }
};

}  // namespace

ConnectionLoop::ConnectionLoop(ServerContext* context, std::string name)
    : context_(context), loop_(std::move(name)) {}

ConnectionLoop::~ConnectionLoop() {
  Stop();
  Join();
}

absl::Status ConnectionLoop::Start() {
  EventLoop::Hooks hooks;
  hooks.before_poll = [this](std::vector<pollfd>* fds) { BeforePoll(fds); };
  hooks.on_ready = [this](const pollfd* fds, size_t count) {
    OnReady(fds, count);
  };
  hooks.after_poll = [this] { return AfterPoll(); };
  hooks.on_stop = [this] { OnStop(); };
  return loop_.Start(std::move(hooks));
}

void ConnectionLoop::Adopt(ssh_session session, std::string id,
                           std::string remote_address) {
  load_.fetch_add(1);
  loop_.Post([this, pending = UnadoptedSession(session, context_),
              id = std::move(id),
              remote = std::move(remote_address)]() mutable {
    auto connection = std::make_unique<Connection>(
        context_, &loop_, pending.Release(), std::move(id), std::move(remote));
    absl::Status status = connection->Start();
    if (!status.ok()) {
      load_.fetch_sub(1);
      return;  // the destructor logs and frees
    }
    connections_.push_back(std::move(connection));
  });
}

void ConnectionLoop::BeforePoll(std::vector<pollfd>* fds) {
  polled_.clear();
  for (const auto& connection : connections_) {
    short events = connection->PollEvents();
    if (events == 0) continue;
    fds->push_back({connection->fd(), events, 0});
    polled_.push_back(connection.get());
  }
}

void ConnectionLoop::OnReady(const pollfd* fds, size_t count) {
  for (size_t i = 0; i < count && i < polled_.size(); ++i) {
    if (fds[i].revents != 0) polled_[i]->OnPollResult(fds[i].revents);
  }
}

int ConnectionLoop::AfterPoll() {
  absl::Time now = absl::Now();
  bool busy = false;
  absl::Time wake_by = now + absl::Milliseconds(kMaxPollWaitMs);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->Service(now, &busy, &wake_by)) {
      ++it;
      continue;
    }
    // Unlink before destroying: teardown calls into libssh, which may run
    // callbacks of other connections of this loop.
    std::unique_ptr<Connection> done = std::move(*it);
    it = connections_.erase(it);
    done.reset();
    load_.fetch_sub(1);
  }
  if (busy) return 0;
  // Rounded up: waking a moment early would only cost an empty round.
  return static_cast<int>(
      std::max<int64_t>(0, absl::ToInt64Milliseconds(wake_by - now) + 1));
}

void ConnectionLoop::OnStop() {
  for (auto& connection : connections_) {
    connection->RequestDisconnect("server shutting down");
  }
  AfterPoll();
  // Whatever survived the round (nothing should) goes now.
  while (!connections_.empty()) {
    std::unique_ptr<Connection> done = std::move(connections_.front());
    connections_.pop_front();
    done.reset();
    load_.fetch_sub(1);
  }
}

void ConnectionLoop::Stop() { loop_.Stop(); }

void ConnectionLoop::Join() { loop_.Join(); }

}  // namespace sftpgate::server
