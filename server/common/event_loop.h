// EventLoop: one thread polling one libssh `ssh_event`, and the Executor
// of that thread.
//
// Each round the loop (1) polls the event (SSH sockets and an eventfd) for
// up to the timeout the owner asked for, (2) runs the closures Post()ed
// since the last round, (3) calls the owner's `after_poll` hook, which does
// the work libssh gives no callback for (retrying channel writes, draining
// channel input, timers) and returns the next poll timeout.
//
// Posted closures never run inside libssh's poll: the eventfd callback only
// clears the eventfd. That keeps them out of the nested polls libssh runs
// from inside its own calls (ssh_channel_write may poll the whole event).
//
// Thread safety: Post(), InLoopThread() and Stop() are thread-safe; event()
// and everything the hooks do belong to the loop thread.

#ifndef SFTPGATE_SERVER_COMMON_EVENT_LOOP_H_
#define SFTPGATE_SERVER_COMMON_EVENT_LOOP_H_

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/common/executor.h"

struct ssh_event_struct;

namespace sftpgate::server {

class EventLoop final : public Executor {
 public:
  struct Hooks {
    // Runs on the loop thread after every round; returns the next poll
    // timeout in milliseconds (0: poll without waiting; capped by Post()).
    std::function<int()> after_poll;
    // Runs once on the loop thread when the loop stops, before the event is
    // freed: tear down everything registered with the event.
    std::function<void()> on_stop;
  };

  explicit EventLoop(std::string name);
  // Stops and joins the thread if still running.
  ~EventLoop() override;

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the event and the eventfd and starts the thread. Call once.
  absl::Status Start(Hooks hooks);
  // Asks the loop to finish its round, run on_stop and exit. Idempotent.
  void Stop();
  // Waits for the thread to exit (no-op if it already did). Not from the
  // loop thread; not from two threads at once.
  void Join();

  void Post(absl::AnyInvocable<void()> fn) override;
  bool InLoopThread() const override;

  // The loop's libssh event. Loop thread only (and before Start()).
  ssh_event_struct* event() const { return event_; }
  const std::string& name() const { return name_; }

 private:
  void Run();
  void RunPosted();
  void Wake();

  const std::string name_;
  Hooks hooks_;
  ssh_event_struct* event_ = nullptr;
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
