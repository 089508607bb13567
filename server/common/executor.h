// Executor: runs closures on one event-loop thread.
//
// Each front-end event loop owns one Executor. gRPC completions (which run
// on gRPC's threads) are handed to the loop of the session they belong to
// through Post(), so session state is only ever touched by its own loop
// thread (libssh requires that a session is never used from two threads).

#ifndef SFTPGATE_SERVER_COMMON_EXECUTOR_H_
#define SFTPGATE_SERVER_COMMON_EXECUTOR_H_

#include "absl/functional/any_invocable.h"

namespace sftpgate::server {

class Executor {
 public:
  virtual ~Executor() = default;

  // Queues `fn` to run on the loop thread, after the current callback
  // returns, in the order posted. Thread-safe; never blocks; never runs
  // `fn` inline. Closures posted after the loop stopped are destroyed
  // without running.
  virtual void Post(absl::AnyInvocable<void()> fn) = 0;

  // True when called from this executor's loop thread.
  virtual bool InLoopThread() const = 0;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_EXECUTOR_H_
