#include "server/ssh/user_rate_limits.h"

#include <vector>

namespace sftpgate::server {
namespace {

std::shared_ptr<sftp::RateLimiter> Total(uint64_t rate) {
  if (rate == 0) return nullptr;
  return std::make_shared<sftp::RateLimiter>(rate, nullptr);
}

}  // namespace

UserRateLimits::UserRateLimits(uint64_t upload_total, uint64_t download_total)
    : upload_total_(Total(upload_total)),
      download_total_(Total(download_total)) {}

std::shared_ptr<sftp::RateLimiter> UserRateLimits::Get(
    std::weak_ptr<sftp::RateLimiter>* slot, uint64_t rate,
    const std::shared_ptr<sftp::RateLimiter>& total) {
  if (rate == 0) return total;
  std::shared_ptr<sftp::RateLimiter> limiter = slot->lock();
  if (limiter == nullptr || limiter->bytes_per_second() != rate) {
    limiter = std::make_shared<sftp::RateLimiter>(rate, total);
    *slot = limiter;
  }
  return limiter;
}

UserRateLimits::Limiters UserRateLimits::For(const std::string& user,
                                             const UserLimits& limits) {
  const uint64_t up = limits.upload_bytes_per_second;
  const uint64_t down = limits.download_bytes_per_second;
  if (up == 0 && down == 0) return {upload_total_, download_total_};
  absl::MutexLock lock(&mu_);
  // Forget users none of whose sessions is left.
  std::vector<std::string> gone;
  for (const auto& [name, entry] : users_) {
    if (entry.upload.expired() && entry.download.expired()) {
      gone.push_back(name);
    }
  }
  for (const std::string& name : gone) users_.erase(name);
  Entry& entry = users_[user];
  return {Get(&entry.upload, up, upload_total_),
          Get(&entry.download, down, download_total_)};
}

}  // namespace sftpgate::server
