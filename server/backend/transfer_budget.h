// TransferBudget: the bytes one session's transfers hold in the front end,
// against a per-session limit (SftpLimits::max_transfer_buffer), within an
// optional parent budget that all sessions share (the process-wide cap,
// setting transfer_buffer_total_mb).
//
// Charged by upload write-behind queues (WriteStream: queued on the loop,
// refunded on gRPC threads as gRPC takes each message) and by read-ahead
// buffers (ReadAhead, loop thread). Over its limit or the parent's,
// transfers stop adding: an upload answers WRITEs only once its own queue
// is empty again, a read-ahead fetches only what a waiting READ still
// lacks. Each transfer may always hold one more message, so none ever
// waits for another (or for another session).
//
// Data the front end holds only because a client chose to send it early
// (WRITEs ahead of a sequential-only backend's next offset, WRITEs that
// arrive while their file commits) gets no such allowance: it is held
// only with a BudgetCharge that fits (TryCharge), and refused beyond.
//
// Thread safety: thread-safe (atomic counters).

#ifndef SFTPGATE_SERVER_BACKEND_TRANSFER_BUDGET_H_
#define SFTPGATE_SERVER_BACKEND_TRANSFER_BUDGET_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

#include "server/common/metrics.h"

namespace sftpgate::server::backend {

class TransferBudget {
 public:
  // `parent` (may be null) is charged and refunded along with this one;
  // `gauge` (may be null, not owned) mirrors the bytes in use.
  explicit TransferBudget(size_t limit,
                          std::shared_ptr<TransferBudget> parent = nullptr,
                          Gauge* gauge = nullptr)
      : limit_(limit), parent_(std::move(parent)), gauge_(gauge) {}

  void Charge(size_t bytes) {
    used_ += bytes;
    if (gauge_ != nullptr) gauge_->Add(static_cast<int64_t>(bytes));
    if (parent_ != nullptr) parent_->Charge(bytes);
  }
  void Refund(size_t bytes) {
    used_ -= bytes;
    if (gauge_ != nullptr) gauge_->Add(-static_cast<int64_t>(bytes));
    if (parent_ != nullptr) parent_->Refund(bytes);
  }
  // Charges `bytes` only if neither this budget nor the parent would go
  // over its limit; returns whether it did.
  bool TryCharge(size_t bytes) {
    size_t used = used_.load();
    do {
      if (bytes > limit_ || used > limit_ - bytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes));
    if (parent_ != nullptr && !parent_->TryCharge(bytes)) {
      used_ -= bytes;
      return false;
    }
    if (gauge_ != nullptr) gauge_->Add(static_cast<int64_t>(bytes));
    return true;
  }
  // At or over this limit or the parent's: transfers should stop adding.
  bool exhausted() const {
    return used_.load() >= limit_ ||
           (parent_ != nullptr && parent_->exhausted());
  }
  size_t used() const { return used_.load(); }
  size_t limit() const { return limit_; }

 private:
  const size_t limit_;
  const std::shared_ptr<TransferBudget> parent_;
  Gauge* const gauge_;
  std::atomic<size_t> used_{0};
};

// Bytes charged to a TransferBudget for as long as this object lives
// (movable; refunded when destroyed or reassigned). The budget must
// outlive it.
class BudgetCharge {
 public:
  BudgetCharge() = default;
  // Charges `bytes` to `budget` if they fit (TransferBudget::TryCharge);
  // an empty charge (ok() false) otherwise.
  static BudgetCharge TryCharge(TransferBudget* budget, size_t bytes) {
    BudgetCharge charge;
    if (budget->TryCharge(bytes)) {
      charge.budget_ = budget;
      charge.bytes_ = bytes;
    }
    return charge;
  }
  BudgetCharge(BudgetCharge&& other) noexcept
      : budget_(std::exchange(other.budget_, nullptr)),
        bytes_(std::exchange(other.bytes_, 0)) {}
  BudgetCharge& operator=(BudgetCharge&& other) noexcept {
    if (this != &other) {
      Release();
      budget_ = std::exchange(other.budget_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  ~BudgetCharge() { Release(); }

  // Whether TryCharge charged the bytes.
  bool ok() const { return budget_ != nullptr; }

 private:
  void Release() {
    if (budget_ != nullptr) budget_->Refund(bytes_);
    budget_ = nullptr;
    bytes_ = 0;
  }

  TransferBudget* budget_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_TRANSFER_BUDGET_H_
