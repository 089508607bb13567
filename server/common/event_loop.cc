#include "server/common/event_loop.h"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate::server {

EventLoop::EventLoop(std::string name) : name_(std::move(name)) {}

EventLoop::~EventLoop() {
  Stop();
  Join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status EventLoop::Start(Hooks hooks) {
  hooks_ = std::move(hooks);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    return absl::InternalError(absl::StrCat("eventfd: ", std::strerror(errno)));
  }
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void EventLoop::Stop() {
  stop_requested_.store(true);
  if (wake_fd_ >= 0) Wake();
}

void EventLoop::Join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  while (write(wake_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

void EventLoop::Post(absl::AnyInvocable<void()> fn) {
  bool wake = false;
  {
    absl::MutexLock lock(&mu_);
    if (accepting_posts_) {
      // Only the first closure of a batch needs to wake the loop.
      wake = posted_.empty();
      posted_.push_back(std::move(fn));
    }
  }
  // A refused closure is destroyed here, outside the lock: its destructor
  // may post again.
  if (wake) Wake();
}

bool EventLoop::InLoopThread() const {
  return loop_thread_id_.load() == std::this_thread::get_id();
}

void EventLoop::RunPosted() {
  std::vector<absl::AnyInvocable<void()>> batch;
  {
    absl::MutexLock lock(&mu_);
    batch.swap(posted_);
  }
  for (auto& fn : batch) fn();
}

void EventLoop::Run() {
  loop_thread_id_.store(std::this_thread::get_id());
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  int timeout_ms = 0;
  std::vector<pollfd> fds;
  while (!stop_requested_.load()) {
    fds.clear();
    fds.push_back({wake_fd_, POLLIN, 0});
    if (hooks_.before_poll) hooks_.before_poll(&fds);
    int ready = poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0) {
      for (pollfd& fd : fds) fd.revents = 0;  // EINTR: nothing happened
    }
    if (fds[0].revents & POLLIN) {
      uint64_t count;
      while (read(wake_fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
      }
    }
    if (hooks_.on_ready) hooks_.on_ready(fds.data() + 1, fds.size() - 1);
    RunPosted();
    timeout_ms = hooks_.after_poll ? hooks_.after_poll() : 1000;
    absl::MutexLock lock(&mu_);
    if (!posted_.empty()) timeout_ms = 0;
  }
  // Closures already queued still run (they may be completions the
  // teardown expects); later ones are refused.
  RunPosted();
  if (hooks_.on_stop) hooks_.on_stop();
  std::vector<absl::AnyInvocable<void()>> dropped;
  {
    absl::MutexLock lock(&mu_);
    accepting_posts_ = false;
    dropped.swap(posted_);
  }
  dropped.clear();
}

}  // namespace sftpgate::server
