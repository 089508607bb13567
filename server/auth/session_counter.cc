#include "server/auth/session_counter.h"

namespace sftpgate::server {

SessionCounter::Key SessionCounter::KeyOf(const Identity& who) {
  return {who.tenant, who.user};
}

bool SessionCounter::TryAcquire(const Identity& who) {
  absl::MutexLock lock(&mu_);
  int& open = open_[KeyOf(who)];
  if (limit_ > 0 && open >= limit_) return false;
  ++open;
  return true;
}

void SessionCounter::Release(const Identity& who) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(KeyOf(who));
  if (it == open_.end()) return;
  if (--it->second <= 0) open_.erase(it);
}

int SessionCounter::Count(const Identity& who) {
  absl::MutexLock lock(&mu_);
  auto it = open_.find(KeyOf(who));
  return it == open_.end() ? 0 : it->second;
}

}  // namespace sftpgate::server
