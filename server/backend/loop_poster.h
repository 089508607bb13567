// LoopPoster: the one way gRPC threads hand work to a session's loop.
//
// gRPC completions may outlive the session (a cancelled call still
// completes later). Every completion posts through a LoopPoster shared
// with it; once the session detaches the poster (at Shutdown and in its
// destructor), posts are dropped instead of reaching an Executor that may
// be gone. So the Executor only has to outlive the session object, not
// the session's gRPC calls.
//
// Thread safety: Post() from any thread; Detach() from the loop thread.

#ifndef SFTPGATE_SERVER_BACKEND_LOOP_POSTER_H_
#define SFTPGATE_SERVER_BACKEND_LOOP_POSTER_H_

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "server/common/executor.h"

namespace sftpgate::server::backend {

class LoopPoster {
 public:
  explicit LoopPoster(Executor* executor) : executor_(executor) {}

  // Queues `fn` on the loop, or destroys it unrun once detached (outside
  // the lock: its captures may be the last owners of gRPC objects).
  void Post(absl::AnyInvocable<void()> fn) {
    {
      absl::MutexLock lock(&mu_);
      if (executor_ != nullptr) {
        executor_->Post(std::move(fn));
        return;
      }
    }
    fn = nullptr;
  }

  // Stops all further posts. Idempotent.
  void Detach() {
    absl::MutexLock lock(&mu_);
    executor_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  Executor* executor_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_LOOP_POSTER_H_
