// RateLimiter: a token bucket in bytes per second, shared by the transfers
// it limits (all sessions of one user, in one direction), optionally under
// a parent bucket (the process-wide total).
//
// Transfers are limited by backpressure, never by holding data: a session
// asks Ready() before it takes more work in the limited direction (reads
// more WRITE packets off the channel, serves the next READ from the
// read-ahead) and Charge()s what it took. While a bucket is in debt the
// session stops, so the SSH window closes on an upload and the read-ahead
// fills and stops pulling from the backend on a download. The bucket starts
// empty and holds at most half a second's worth of credit: enough to make
// up for a client or a loop that was late for a moment (a busy machine),
// too little for an idle user to save up for a long burst.
//
// Thread safety: thread-safe (sessions of one user live on several loops).

#ifndef SFTPGATE_SERVER_SFTP_RATE_LIMITER_H_
#define SFTPGATE_SERVER_SFTP_RATE_LIMITER_H_

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace sftpgate::server::sftp {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `bytes_per_second` > 0. `parent` (may be null) is charged too, and
  // must be ready as well.
  RateLimiter(uint64_t bytes_per_second, std::shared_ptr<RateLimiter> parent);

  // Whether bytes may flow now: this bucket and its parents are out of
  // debt.
  bool Ready(Clock::time_point now);
  // Takes `bytes` from this bucket and its parents (may go into debt).
  void Charge(uint64_t bytes, Clock::time_point now);
  // How long until Ready() (zero if it is).
  Clock::duration Wait(Clock::time_point now);

  uint64_t bytes_per_second() const { return rate_; }

 private:
  void RefillLocked(Clock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t rate_;
  const double burst_;
  const std::shared_ptr<RateLimiter> parent_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  Clock::time_point last_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_RATE_LIMITER_H_
