// AuthThrottle: failed-authentication throttling per source address.
//
// After `max_failures` failed attempts from one address within `window`,
// the address is banned for `ban`: its further attempts are not checked at
// all (the connection is held for a short delay, then closed). Other
// addresses are unaffected, so a brute-force run from one host cannot lock
// out a user who logs in from elsewhere. A ban starts at most once per
// address until it expires, which lets the caller log it exactly once.
//
// Failures are counted in a fixed window that starts with the first
// failure. Memory is bounded: stale entries are pruned as the table grows,
// and beyond `max_tracked` addresses new ones are not tracked.
//
// Thread safety: thread-safe (one mutex; every call is O(1) amortized).

#ifndef SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_
#define SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_

#include <cstddef>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace sftpgate::server {

struct AuthThrottleOptions {
  int max_failures = 10;  // 0 disables throttling
  absl::Duration window = absl::Seconds(60);
  absl::Duration ban = absl::Seconds(300);
  size_t max_tracked = 100000;
};

class AuthThrottle {
 public:
  explicit AuthThrottle(AuthThrottleOptions options);

  // True while `address` (an IP address, no port) is banned.
  bool IsBanned(absl::string_view address, absl::Time now);

  // Counts one failed attempt from `address`. Returns true when this
  // failure starts a ban.
  bool RecordFailure(absl::string_view address, absl::Time now);

  const AuthThrottleOptions& options() const { return options_; }

 private:
  struct Entry {
    absl::Time window_start;
    int failures = 0;
    absl::Time banned_until = absl::InfinitePast();
  };
  bool Stale(const Entry& entry, absl::Time now) const;
  void PruneLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AuthThrottleOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  size_t prune_at_ ABSL_GUARDED_BY(mu_);
  absl::Time next_full_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_
