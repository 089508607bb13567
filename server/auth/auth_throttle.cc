#include "server/auth/auth_throttle.h"

#include "absl/strings/str_cat.h"
#include "server/common/log.h"

namespace sftpgate::server {
namespace {

// Evictions are logged at most this often (each one is counted).
constexpr absl::Duration kEvictionLogInterval = absl::Minutes(1);

}  // namespace

AuthThrottle::AuthThrottle(AuthThrottleOptions options)
    : options_(std::move(options)) {
  if (options_.banned_gauge != nullptr) options_.banned_gauge->Set(0);
}

std::string AuthThrottle::SourceOf(absl::string_view host) const {
  return options_.grouping.KeyOf(host);
}

bool AuthThrottle::Enabled(absl::string_view host) const {
  return options_.max_failures > 0 && !InAnyNetwork(host, options_.exempt);
}

void AuthThrottle::EraseLocked(std::list<std::string>* list) {
  entries_.erase(list->front());
  list->pop_front();
}

void AuthThrottle::ExpireLocked(absl::Time now) {
  while (!banned_.empty() &&
         now >= entries_.find(banned_.front())->second.banned_until) {
    EraseLocked(&banned_);
  }
  while (!counting_.empty() &&
         now - entries_.find(counting_.front())->second.window_start >=
             options_.window) {
    EraseLocked(&counting_);
  }
}

void AuthThrottle::EvictLocked(absl::Time now) {
  ExpireLocked(now);
  if (entries_.size() < options_.max_tracked) return;
  // Forgetting a count costs less than lifting a ban.
  EraseLocked(!counting_.empty() ? &counting_ : &banned_);
  ++evictions_;
  if (options_.eviction_counter != nullptr) {
    options_.eviction_counter->Increment();
  }
  if (now >= next_eviction_log_) {
    next_eviction_log_ = now + kEvictionLogInterval;
    LogEvent(LogLevel::kWarning, "auth_throttle_full",
             {{"tracked", absl::StrCat(entries_.size() + 1)},
              {"evicted", absl::StrCat(evictions_ - evictions_logged_)}});
    evictions_logged_ = evictions_;
  }
}

void AuthThrottle::PublishLocked() {
  if (options_.banned_gauge != nullptr) {
    options_.banned_gauge->Set(static_cast<int64_t>(banned_.size()));
  }
}

bool AuthThrottle::IsBanned(absl::string_view host, absl::Time now) {
  if (!Enabled(host)) return false;
  const std::string source = SourceOf(host);
  absl::MutexLock lock(&mu_);
  ExpireLocked(now);
  PublishLocked();
  auto it = entries_.find(source);
  return it != entries_.end() && now < it->second.banned_until;
}

bool AuthThrottle::RecordFailure(absl::string_view host, absl::Time now) {
  if (!Enabled(host)) return false;
  std::string source = SourceOf(host);
  absl::MutexLock lock(&mu_);
  ExpireLocked(now);
  auto it = entries_.find(source);
  if (it == entries_.end()) {
    if (entries_.size() >= options_.max_tracked) EvictLocked(now);
    counting_.push_back(source);
    Entry fresh;
    fresh.window_start = now;
    fresh.position = std::prev(counting_.end());
    it = entries_.emplace(std::move(source), fresh).first;
  }
  Entry& entry = it->second;
  if (now < entry.banned_until) return false;  // already banned
  if (now - entry.window_start >= options_.window) {
    entry.window_start = now;
    entry.failures = 0;
  }
  if (++entry.failures < options_.max_failures) {
    // Most recently penalized last.
    counting_.splice(counting_.end(), counting_, entry.position);
    return false;
  }
  entry.banned_until = now + options_.ban;
  entry.failures = 0;
  banned_.splice(banned_.end(), counting_, entry.position);
  PublishLocked();
  return true;
}

size_t AuthThrottle::BannedSources(absl::Time now) {
  absl::MutexLock lock(&mu_);
  ExpireLocked(now);
  PublishLocked();
  return banned_.size();
}

uint64_t AuthThrottle::evictions() const {
  absl::MutexLock lock(&mu_);
  return evictions_;
}

}  // namespace sftpgate::server
