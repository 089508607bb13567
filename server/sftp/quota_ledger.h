// QuotaLedger: one user's uploads in progress and recent commits on this
// front end, shared by all of that user's sessions, so that uploads running
// at the same time cannot together pass the user's quota.
//
// The backend's usage (the Usage call) counts committed files only, and a
// session reads it once per upload, at OPEN. On its own that lets two
// uploads that start together each take what the quota leaves. The ledger
// closes that gap: every WRITE of a user with a quota reserves its bytes
// here, under one lock, against
//   the usage read at the upload's OPEN (less the file it replaces),
//   + what uploads committed on this front end since that read,
//   + what the user's other uploads in progress have written,
//   + the new end of this upload.
// So on one front end a user's committed files never pass quota_bytes or
// quota_files, however many sessions upload at once (uploads through other
// front ends or outside sftpgate are not seen until the next OPEN).
// Counting is conservative where it cannot tell: a commit that finishes
// while a Usage call is under way counts twice until the next OPEN, a
// replacement that shrinks a file frees nothing until then.
//
// Thread safety: thread-safe (sessions of one user live on different
// event loops).

#ifndef SFTPGATE_SERVER_SFTP_QUOTA_LEDGER_H_
#define SFTPGATE_SERVER_SFTP_QUOTA_LEDGER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "server/config/user_limits.h"

namespace sftpgate::server::sftp {

class QuotaLedger {
 public:
  // What had been committed through the ledger at some moment: taken just
  // before asking the backend for the usage, so that later commits (which
  // the answer may not include) are counted on top of it.
  struct Mark {
    uint64_t bytes = 0;
    uint64_t files = 0;
  };
  // The backend's usage, read after `mark` was taken.
  struct Usage {
    uint64_t bytes = 0;
    uint64_t files = 0;
    Mark mark;
  };
  // One upload being accounted (from Begin to End).
  struct Upload {
    uint64_t id = 0;
    Usage usage;
    // The size the usage counts for the file being written (0 for a new
    // file): the upload replaces it, so it does not count against itself.
    uint64_t old_size = 0;
    bool new_file = false;
  };

  QuotaLedger() = default;
  QuotaLedger(const QuotaLedger&) = delete;
  QuotaLedger& operator=(const QuotaLedger&) = delete;

  // The mark to take before asking the backend for the usage.
  Mark Now() const;

  // Starts accounting an upload that writes a file of size `old_size`
  // (`new_file`: a file the usage does not count yet). Returns nullopt,
  // and accounts nothing, when a new file would pass `quota.quota_files`
  // (0: no file quota) given `usage` and the user's uploads in progress.
  std::optional<Upload> Begin(const UserLimits& quota, const Usage& usage,
                              uint64_t old_size, bool new_file);

  // Reserves room for `upload`'s file to reach `end` bytes. False, and
  // nothing reserved, when that would take the user past
  // `quota.quota_bytes` (0: no byte quota): then the upload must fail.
  bool Grow(const UserLimits& quota, const Upload& upload, uint64_t end);

  // Stops accounting `upload`. `committed`: some of it was committed (its
  // CLOSE or an fsync succeeded), so its reservation now counts as a
  // commit for uploads whose usage was read before.
  void End(const Upload& upload, bool committed);

  // Uploads in progress (for tests and metrics).
  size_t uploads() const;

 private:
  struct Live {
    uint64_t growth = 0;  // bytes past old_size reserved so far
    bool new_file = false;
  };

  mutable absl::Mutex mu_;
  Mark committed_ ABSL_GUARDED_BY(mu_);
  uint64_t live_growth_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t live_new_files_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Live> live_ ABSL_GUARDED_BY(mu_);
};

// The ledger of every user with a quota, shared by the user's sessions
// while any of them holds it. Keyed by user and root: the usage a ledger
// adds to is that of one root.
//
// Thread safety: thread-safe.
class QuotaLedgers {
 public:
  // The ledger of `user` with session root `root` (made on first use).
  std::shared_ptr<QuotaLedger> For(const std::string& user,
                                   const std::string& root);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::weak_ptr<QuotaLedger>> users_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_QUOTA_LEDGER_H_
