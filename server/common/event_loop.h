// EventLoop: one thread polling a set of file descriptors, and the
// Executor of that thread.
//
// Each round the loop (1) asks its owner which descriptors to poll
// (`before_poll`), polls them and its own eventfd for up to the timeout the
// owner asked for, (2) hands the results to the owner (`on_ready`), (3) runs
// the closures Post()ed since the last round, (4) calls the owner's
// `after_poll` hook, which does the work no descriptor announces (retrying
// channel writes, draining channel input, timers) and returns the next poll
// timeout.
//
// The loop knows nothing of libssh: the SSH layer gives each session an
// ssh_event of its own and polls it from `on_ready` (see
// server/ssh/connection.h for why sessions must not share one).
//
// Thread safety: Post(), InLoopThread() and Stop() are thread-safe; the
// hooks run on the loop thread.

#ifndef SFTPGATE_SERVER_COMMON_EVENT_LOOP_H_
#define SFTPGATE_SERVER_COMMON_EVENT_LOOP_H_

#include <poll.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/common/executor.h"

namespace sftpgate::server {

class EventLoop final : public Executor {
 public:
  struct Hooks {
    // Appends the descriptors (and events) to poll this round.
    std::function<void(std::vector<pollfd>* fds)> before_poll;
    // The descriptors appended by before_poll, in the same order, with
    // their revents, after the poll (also when none fired).
    std::function<void(const pollfd* fds, size_t count)> on_ready;
    // Runs after every round; returns the next poll timeout in milliseconds
    // (0: poll without waiting; capped by Post()).
    std::function<int()> after_poll;
    // Runs once on the loop thread when the loop stops.
    std::function<void()> on_stop;
  };

  explicit EventLoop(std::string name);
  // Stops and joins the thread if still running.
  ~EventLoop() override;

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the eventfd and starts the thread. Call once.
  absl::Status Start(Hooks hooks);
  // Asks the loop to finish its round, run on_stop and exit. Idempotent.
  void Stop();
  // Waits for the thread to exit (no-op if it already did). Not from the
  // loop thread; not from two threads at once.
  void Join();

  void Post(absl::AnyInvocable<void()> fn) override;
  bool InLoopThread() const override;

  const std::string& name() const { return name_; }

 private:
  void Run();
  void RunPosted();
  void Wake();

  const std::string name_;
  Hooks hooks_;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<std::thread::id> loop_thread_id_{};
  std::atomic<bool> stop_requested_{false};

  absl::Mutex mu_;
  std::vector<absl::AnyInvocable<void()>> posted_ ABSL_GUARDED_BY(mu_);
  bool accepting_posts_ ABSL_GUARDED_BY(mu_) = true;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_EVENT_LOOP_H_
