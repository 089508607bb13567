#include "server/auth/startup_limiter.h"

namespace sftpgate::server {

StartupLimiter::Slot::~Slot() { limiter_->Release(source_); }

StartupLimiter::StartupLimiter(int max_total, int max_per_source,
                               SourceGrouping grouping)
    : max_total_(max_total),
      max_per_source_(max_per_source),
      grouping_(grouping) {}

std::unique_ptr<StartupLimiter::Slot> StartupLimiter::TryAcquire(
    absl::string_view host, Refusal* refusal) {
  std::string source = grouping_.KeyOf(host);
  absl::MutexLock lock(&mu_);
  if (max_total_ > 0 && total_ >= max_total_) {
    *refusal = Refusal::kTotal;
    return nullptr;
  }
  int& held = by_source_[source];
  if (max_per_source_ > 0 && held >= max_per_source_) {
    *refusal = Refusal::kPerSource;
    return nullptr;
  }
  ++held;
  ++total_;
  *refusal = Refusal::kNone;
  return std::unique_ptr<Slot>(new Slot(this, std::move(source)));
}

void StartupLimiter::Release(const std::string& source) {
  absl::MutexLock lock(&mu_);
  --total_;
  auto it = by_source_.find(source);
  if (it != by_source_.end() && --it->second <= 0) by_source_.erase(it);
}

int StartupLimiter::Total() {
  absl::MutexLock lock(&mu_);
  return total_;
}

int StartupLimiter::BySource(absl::string_view host) {
  std::string source = grouping_.KeyOf(host);
  absl::MutexLock lock(&mu_);
  auto it = by_source_.find(source);
  return it == by_source_.end() ? 0 : it->second;
}

}  // namespace sftpgate::server
