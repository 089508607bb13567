// AuthThrottle: bans source networks that keep failing to log in.
//
// The unit counted is a penalty: the caller records one for each
// connection that ended without authenticating after a refused credential
// (OpenSSH's PerSourcePenalties "authfail" model), never one per attempt:
// a client that offers several keys, or asks keyboard-interactive and then
// password, pays once per connection. After `max_failures` penalties from
// one source network within `window`, the network is banned for `ban`; a
// ban starts at most once per network until it expires, which lets the
// caller log it exactly once.
//
// Sources are grouped into networks (SourceGrouping: IPv4 /32 and IPv6 /64
// by default), so a host cannot dodge the count by cycling through the
// addresses of its own IPv6 prefix. Addresses in `exempt` are never
// counted nor banned.
//
// Memory is bounded by `max_tracked` networks. Under a flood of new
// addresses tracking goes on: expired entries go first, then the network
// whose last penalty is oldest (then the oldest ban). Each such eviction
// is counted (evictions()) and logged at most once a minute.
//
// Thread safety: thread-safe (one mutex; every call is O(1) amortized).

#ifndef SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_
#define SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/common/metrics.h"
#include "server/config/ip_networks.h"

namespace sftpgate::server {

struct AuthThrottleOptions {
  int max_failures = 10;  // penalties within `window`; 0 disables bans
  absl::Duration window = absl::Seconds(60);
  absl::Duration ban = absl::Seconds(300);
  size_t max_tracked = 100000;
  SourceGrouping grouping;
  std::vector<IpNetwork> exempt;
  // Optional (may be null): set to the number of banned networks, and
  // incremented per eviction.
  Gauge* banned_gauge = nullptr;
  Counter* eviction_counter = nullptr;
};

class AuthThrottle {
 public:
  explicit AuthThrottle(AuthThrottleOptions options);

  // The network `host` (an IP address, no port) is counted under, as text
  // ("192.0.2.7/32", "2001:db8::/64"): the key of bans and of the logs.
  std::string SourceOf(absl::string_view host) const;

  // True while the network of `host` is banned.
  bool IsBanned(absl::string_view host, absl::Time now);

  // Counts one penalty against the network of `host` (nothing for an
  // exempt host). Returns true when this penalty starts a ban.
  bool RecordFailure(absl::string_view host, absl::Time now);

  // Networks banned now.
  size_t BannedSources(absl::Time now);
  // Networks dropped from the table to make room for new ones.
  uint64_t evictions() const;

  const AuthThrottleOptions& options() const { return options_; }

 private:
  struct Entry {
    absl::Time window_start;
    int failures = 0;
    absl::Time banned_until = absl::InfinitePast();
    std::list<std::string>::iterator position;  // in counting_ or banned_
  };
  bool Enabled(absl::string_view host) const;
  // Drops expired bans and stale counts from the heads of the lists.
  void ExpireLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes room for one more entry when the table is full.
  void EvictLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(std::list<std::string>* list)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const AuthThrottleOptions options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Keys of entries not banned, least recently penalized first; and of
  // banned entries, in ban order (= expiry order: every ban is as long).
  std::list<std::string> counting_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> banned_ ABSL_GUARDED_BY(mu_);
  uint64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evictions_logged_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time next_eviction_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_AUTH_THROTTLE_H_
