#include "server/common/worker_pool.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace sftpgate::server {

WorkerPool::WorkerPool(std::string name, int threads, size_t max_queued)
    : max_queued_(max_queued) {
  threads = std::max(1, threads);
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, thread_name = name.substr(0, 15)] {
      pthread_setname_np(pthread_self(), thread_name.c_str());
      Work();
    });
  }
}

WorkerPool::~WorkerPool() { Shutdown(); }

void WorkerPool::Shutdown() {
  std::deque<absl::AnyInvocable<void() &&>> dropped;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  // Outside the lock: a task's destructor may submit again (refused).
  dropped.clear();
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

bool WorkerPool::TrySubmit(absl::AnyInvocable<void() &&> task) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && queue_.size() < max_queued_) {
      queue_.push_back(std::move(task));
      return true;
    }
  }
  return false;  // `task` is destroyed by the caller's frame, unlocked
}

void WorkerPool::Work() {
  while (true) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // stopping
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace sftpgate::server
