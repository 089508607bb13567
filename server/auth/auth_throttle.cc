#include "server/auth/auth_throttle.h"

#include <algorithm>

namespace sftpgate::server {
namespace {

constexpr size_t kFirstPrune = 1024;

}  // namespace

AuthThrottle::AuthThrottle(AuthThrottleOptions options)
    : options_(options), prune_at_(kFirstPrune) {}

bool AuthThrottle::Stale(const Entry& entry, absl::Time now) const {
  return now >= entry.banned_until &&
         now - entry.window_start >= options_.window;
}

void AuthThrottle::PruneLocked(absl::Time now) {
  absl::erase_if(entries_,
                 [&](const auto& item) { return Stale(item.second, now); });
  // Next prune when the live set has doubled: amortized O(1) per insert.
  prune_at_ = std::max(kFirstPrune, 2 * entries_.size());
}

bool AuthThrottle::IsBanned(absl::string_view address, absl::Time now) {
  if (options_.max_failures <= 0) return false;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(address);
  return it != entries_.end() && now < it->second.banned_until;
}

bool AuthThrottle::RecordFailure(absl::string_view address, absl::Time now) {
  if (options_.max_failures <= 0) return false;
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    const bool full = entries_.size() >= options_.max_tracked;
    if (entries_.size() >= prune_at_ || (full && now >= next_full_prune_)) {
      PruneLocked(now);
      // While full of live entries, prune at most once a second.
      next_full_prune_ = now + absl::Seconds(1);
    }
    if (entries_.size() >= options_.max_tracked) return false;
    it = entries_.emplace(std::string(address), Entry{now}).first;
  }
  Entry& entry = it->second;
  if (now < entry.banned_until) return false;  // already banned
  if (now - entry.window_start >= options_.window) {
    entry.window_start = now;
    entry.failures = 0;
  }
  if (++entry.failures < options_.max_failures) return false;
  entry.banned_until = now + options_.ban;
  // The ban is the penalty for this window; counting starts afresh after.
  entry.failures = 0;
  entry.window_start = entry.banned_until;
  return true;
}

}  // namespace sftpgate::server
