// UserLimits: what one user may store and how fast they may transfer. Set
// per user in the users file (quota_bytes, quota_files,
// upload_kib_per_second, download_kib_per_second) or by the delegated
// authenticator (AuthenticateResponse fields of the same names).
//
// Plain data.

#ifndef SFTPGATE_SERVER_CONFIG_USER_LIMITS_H_
#define SFTPGATE_SERVER_CONFIG_USER_LIMITS_H_

#include <cstdint>

namespace sftpgate::server {

struct UserLimits {
  // Bytes in regular files beneath the user's root; 0: no quota.
  uint64_t quota_bytes = 0;
  // Regular files beneath the user's root; 0: no quota.
  uint64_t quota_files = 0;
  // Bytes per second over all the user's sessions; 0: unlimited.
  uint64_t upload_bytes_per_second = 0;
  uint64_t download_bytes_per_second = 0;

  bool has_quota() const { return quota_bytes > 0 || quota_files > 0; }
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_USER_LIMITS_H_
