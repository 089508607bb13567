// HashBudget: how many file bytes the front end may still read to compute
// digests for one SSH connection (check-file requests and md5sum-style
// exec commands together). Digests a backend answers itself (Hash) cost
// nothing. Charged before reading, for the whole range at once, so a
// request either runs to its end or is refused up front with
// RESOURCE_EXHAUSTED ("hash limit reached").
//
// Thread safety: thread-safe (atomic).

#ifndef SFTPGATE_SERVER_SFTP_HASH_BUDGET_H_
#define SFTPGATE_SERVER_SFTP_HASH_BUDGET_H_

#include <atomic>
#include <cstdint>

namespace sftpgate::server::sftp {

class HashBudget {
 public:
  explicit HashBudget(uint64_t limit) : remaining_(limit) {}

  // Takes `bytes` from the budget; false (and nothing taken) when fewer
  // remain.
  bool TryCharge(uint64_t bytes) {
    uint64_t have = remaining_.load(std::memory_order_relaxed);
    while (have >= bytes) {
      if (remaining_.compare_exchange_weak(have, have - bytes)) return true;
    }
    return false;
  }

  uint64_t remaining() const { return remaining_.load(); }

 private:
  std::atomic<uint64_t> remaining_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_HASH_BUDGET_H_
