// Upload and download rate limits (SftpSessionOptions::upload_rate,
// download_rate), enforced by backpressure rather than by holding data:
//
//  - Upload: every accepted WRITE's payload is charged to the user's
//    upload bucket; while the bucket is in debt the session takes no more
//    packets off the channel (AtInputLimit), so the client's data waits in
//    the SSH window, which closes.
//  - Download: a READ is served from the read-ahead only while the
//    download bucket is out of debt (then charged its length); otherwise it
//    waits, in order, without data. The read-ahead stops pulling from the
//    backend once its buffer is full, and input stops at max_in_flight.
//
// A timer wakes the session when the bucket will be out of debt again.

#include <algorithm>

#include "server/sftp/session_impl.h"

namespace sftpgate::server::sftp {
namespace {

// Timer bounds: fine enough for a steady rate, coarse enough to be cheap.
constexpr auto kMinRateWait = std::chrono::milliseconds(1);
constexpr auto kMaxRateWait = std::chrono::milliseconds(50);

}  // namespace

bool SessionImpl::UploadInDebt() const {
  return options_.upload_rate != nullptr &&
         !options_.upload_rate->Ready(backend::Clock::now());
}

void SessionImpl::ChargeUpload(size_t bytes) {
  if (options_.upload_rate != nullptr) {
    options_.upload_rate->Charge(bytes, backend::Clock::now());
  }
}

void SessionImpl::AdmitRead(Op op, Handle* h, uint64_t offset,
                            uint32_t length) {
  RateLimiter* limit = options_.download_rate.get();
  if (limit == nullptr) return ServeRead(std::move(op), h, offset, length);
  const backend::Clock::time_point now = backend::Clock::now();
  if (deferred_reads_.empty() && limit->Ready(now)) {
    limit->Charge(length, now);
    return ServeRead(std::move(op), h, offset, length);
  }
  deferred_reads_.push_back({std::move(op), h, offset, length});
  ArmRateTimer();
}

void SessionImpl::ServeDeferredReads() {
  RateLimiter* limit = options_.download_rate.get();
  while (!deferred_reads_.empty() && !shut_down_ &&
         limit->Ready(backend::Clock::now())) {
    DeferredRead read = std::move(deferred_reads_.front());
    deferred_reads_.pop_front();
    limit->Charge(read.length, backend::Clock::now());
    ServeRead(std::move(read.op), read.handle, read.offset, read.length);
  }
}

void SessionImpl::ArmRateTimer() {
  if (rate_timer_armed_ || shut_down_) return;
  const backend::Clock::time_point now = backend::Clock::now();
  backend::Clock::duration wait = backend::Clock::duration::max();
  if (!deferred_reads_.empty()) wait = options_.download_rate->Wait(now);
  if (input_paused_ && options_.upload_rate != nullptr) {
    wait = std::min(wait, options_.upload_rate->Wait(now));
  }
  if (wait == backend::Clock::duration::max()) return;
  wait = std::clamp<backend::Clock::duration>(wait, kMinRateWait, kMaxRateWait);
  rate_timer_armed_ = true;
  rate_timer_ = std::make_unique<grpc::Alarm>();
  rate_timer_->Set(std::chrono::system_clock::now() + wait,
                   [poster = poster_, weak = WeakSelf()](bool) {
                     poster->Post([weak] {
                       auto self = weak.lock();
                       if (self == nullptr) return;
                       self->rate_timer_armed_ = false;
                       if (self->shut_down_) return;
                       self->ServeDeferredReads();
                       self->MaybeResumeInput();
                       self->ArmRateTimer();
                     });
                   });
}

}  // namespace sftpgate::server::sftp
