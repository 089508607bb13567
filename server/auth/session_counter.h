// SessionCounter: authenticated sessions open per user, to enforce
// max_sessions_per_user.
//
// Users are told apart by tenant and name together (two tenants may each
// have an "admin").
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_AUTH_SESSION_COUNTER_H_
#define SFTPGATE_SERVER_AUTH_SESSION_COUNTER_H_

#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/authenticator.h"

namespace sftpgate::server {

class SessionCounter {
 public:
  // `limit` sessions per user at most; 0 means no limit.
  explicit SessionCounter(int limit) : limit_(limit) {}

  // Takes a slot for `who`; false (nothing taken) when they are at the
  // limit. Every true must be paired with one Release(who).
  bool TryAcquire(const Identity& who);
  void Release(const Identity& who);
  // Sessions `who` has open.
  int Count(const Identity& who);

 private:
  using Key = std::pair<std::string, std::string>;  // tenant, user
  static Key KeyOf(const Identity& who);

  const int limit_;
  absl::Mutex mu_;
  absl::flat_hash_map<Key, int> open_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_SESSION_COUNTER_H_
