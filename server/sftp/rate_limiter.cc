#include "server/sftp/rate_limiter.h"

#include <algorithm>
#include <utility>

namespace sftpgate::server::sftp {

RateLimiter::RateLimiter(uint64_t bytes_per_second,
                         std::shared_ptr<RateLimiter> parent)
    : rate_(bytes_per_second),
      burst_(static_cast<double>(bytes_per_second) / 2),
      parent_(std::move(parent)),
      tokens_(0),
      last_(Clock::now()) {}

void RateLimiter::RefillLocked(Clock::time_point now) {
  if (now <= last_) return;
  const double seconds = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + seconds * static_cast<double>(rate_));
  last_ = now;
}

bool RateLimiter::Ready(Clock::time_point now) {
  {
    absl::MutexLock lock(&mu_);
    RefillLocked(now);
    if (tokens_ <= 0) return false;
  }
  return parent_ == nullptr || parent_->Ready(now);
}

void RateLimiter::Charge(uint64_t bytes, Clock::time_point now) {
  {
    absl::MutexLock lock(&mu_);
    RefillLocked(now);
    tokens_ -= static_cast<double>(bytes);
  }
  if (parent_ != nullptr) parent_->Charge(bytes, now);
}

RateLimiter::Clock::duration RateLimiter::Wait(Clock::time_point now) {
  Clock::duration wait = Clock::duration::zero();
  {
    absl::MutexLock lock(&mu_);
    RefillLocked(now);
    if (tokens_ <= 0) {
      wait = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double>((1 - tokens_) /
                                        static_cast<double>(rate_)));
    }
  }
  if (parent_ != nullptr) wait = std::max(wait, parent_->Wait(now));
  return wait;
}

}  // namespace sftpgate::server::sftp
