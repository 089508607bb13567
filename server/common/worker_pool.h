// WorkerPool: a few threads for CPU-heavy work that must not run on an
// event-loop thread (password hashing costs tens of milliseconds).
//
// Tasks run in submission order on whichever worker is free. The queue is
// bounded: a full queue refuses new tasks instead of growing, so a flood of
// login attempts cannot use unbounded memory.
//
// Thread safety: TrySubmit() may be called from any thread; Shutdown()
// from any thread but a worker.

#ifndef SFTPGATE_SERVER_COMMON_WORKER_POOL_H_
#define SFTPGATE_SERVER_COMMON_WORKER_POOL_H_

#include <cstddef>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"

namespace sftpgate::server {

class WorkerPool {
 public:
  // Starts `threads` workers (at least one) named `name`.
  WorkerPool(std::string name, int threads, size_t max_queued);
  // Shutdown().
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` destroyed) when the queue is full or
  // the pool is shutting down.
  bool TrySubmit(absl::AnyInvocable<void() &&> task);

  // Refuses new tasks, destroys queued ones without running them, waits
  // for running ones and joins the workers. Idempotent; not from a worker.
  void Shutdown();

 private:
  void Work();

  const size_t max_queued_;
  absl::Mutex mu_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_WORKER_POOL_H_
