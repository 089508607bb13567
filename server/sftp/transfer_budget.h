// TransferBudget: the bytes one session's transfers hold in the front end,
// against a per-session limit (SftpLimits::max_transfer_buffer).
//
// Charged by upload write-behind queues (WriteStream: queued on the loop,
// refunded on gRPC threads as gRPC takes each message) and by read-ahead
// buffers (ReadAhead, loop thread). Over the limit, transfers stop adding:
// an upload answers WRITEs only once its own queue is empty again, a
// read-ahead fetches only what a waiting READ still lacks. Each transfer
// may always hold one more message, so none ever waits for another.
//
// Thread safety: thread-safe (one atomic counter).

#ifndef SFTPGATE_SERVER_SFTP_TRANSFER_BUDGET_H_
#define SFTPGATE_SERVER_SFTP_TRANSFER_BUDGET_H_

#include <atomic>
#include <cstddef>

namespace sftpgate::server::sftp {

class TransferBudget {
 public:
  explicit TransferBudget(size_t limit) : limit_(limit) {}

  void Charge(size_t bytes) { used_ += bytes; }
  void Refund(size_t bytes) { used_ -= bytes; }
  // At or over the limit: transfers should stop adding.
  bool exhausted() const { return used_.load() >= limit_; }
  size_t used() const { return used_.load(); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  std::atomic<size_t> used_{0};
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_TRANSFER_BUDGET_H_
