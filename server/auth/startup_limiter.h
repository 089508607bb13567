// StartupLimiter: caps connections that have not authenticated yet, in
// total and per source network (OpenSSH's MaxStartups and
// PerSourceMaxStartups are the model). A connection takes a slot when it
// starts and gives it back once it authenticates or ends, so idle sockets
// from strangers can hold at most `max_total` slots, and one source network
// at most `max_per_source`, whatever the overall session limit.
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_AUTH_STARTUP_LIMITER_H_
#define SFTPGATE_SERVER_AUTH_STARTUP_LIMITER_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/config/ip_networks.h"

namespace sftpgate::server {

class StartupLimiter {
 public:
  // A held slot; destroying it gives the slot back.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    friend class StartupLimiter;
    Slot(StartupLimiter* limiter, std::string source)
        : limiter_(limiter), source_(std::move(source)) {}
    StartupLimiter* const limiter_;
    const std::string source_;
  };

  enum class Refusal { kNone, kTotal, kPerSource };

  // 0 for either limit means no limit of that kind.
  StartupLimiter(int max_total, int max_per_source, SourceGrouping grouping);

  // A slot for a connection from `host` (an IP address, no port), or null
  // with *refusal saying which limit was reached. The limiter must outlive
  // its slots.
  std::unique_ptr<Slot> TryAcquire(absl::string_view host, Refusal* refusal);

  // Slots held, in total and by the network of `host`.
  int Total();
  int BySource(absl::string_view host);

 private:
  void Release(const std::string& source);

  const int max_total_;
  const int max_per_source_;
  const SourceGrouping grouping_;
  absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> by_source_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_STARTUP_LIMITER_H_
