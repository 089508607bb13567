// UserRateLimits: the upload and download RateLimiters of every user with
// a rate limit, shared by all of that user's sessions, under optional
// process-wide totals (settings upload_total_kib_per_second,
// download_total_kib_per_second).
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_SSH_USER_RATE_LIMITS_H_
#define SFTPGATE_SERVER_SSH_USER_RATE_LIMITS_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/config/user_limits.h"
#include "server/sftp/rate_limiter.h"

namespace sftpgate::server {

class UserRateLimits {
 public:
  // Totals in bytes per second; 0: none.
  UserRateLimits(uint64_t upload_total, uint64_t download_total);

  struct Limiters {
    // Null: unlimited in that direction.
    std::shared_ptr<sftp::RateLimiter> upload;
    std::shared_ptr<sftp::RateLimiter> download;
  };
  // The limiters for a session of `user` whose limits are `limits`: the
  // user's own buckets (made on first use, shared while any session holds
  // them; new ones if the user's rates changed), under the totals; the
  // total alone for a user without a rate of their own.
  Limiters For(const std::string& user, const UserLimits& limits);

 private:
  struct Entry {
    std::weak_ptr<sftp::RateLimiter> upload;
    std::weak_ptr<sftp::RateLimiter> download;
  };
  static std::shared_ptr<sftp::RateLimiter> Get(
      std::weak_ptr<sftp::RateLimiter>* slot, uint64_t rate,
      const std::shared_ptr<sftp::RateLimiter>& total);

  const std::shared_ptr<sftp::RateLimiter> upload_total_;
  const std::shared_ptr<sftp::RateLimiter> download_total_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> users_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_USER_RATE_LIMITS_H_
