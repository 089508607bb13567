// Open handles of one session: what OPEN and OPENDIR return.
//
// Handle strings are opaque to the client: a decimal counter that is never
// reused within the session, so a closed or forged handle simply is not
// found (the session answers SSH_FX_FAILURE "invalid handle", like
// OpenSSH). At most `max_open` handles are open at once. A handle being
// closed leaves the lookup at once (later requests naming it fail) but
// stays owned here until its close completes, so objects it owns (read and
// write streams, listings) keep a stable address for their callbacks.
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_SFTP_HANDLE_TABLE_H_
#define SFTPGATE_SERVER_SFTP_HANDLE_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "server/sftp/dir_listing.h"
#include "server/sftp/quota_ledger.h"
#include "server/sftp/read_ahead.h"
#include "server/sftp/upload.h"

namespace sftpgate::server::sftp {

// An upload of a user with a quota, accounted in the user's QuotaLedger
// from OPEN until the handle is released (the destructor ends it there).
struct QuotaAllowance {
  QuotaAllowance(std::shared_ptr<QuotaLedger> ledger,
                 QuotaLedger::Upload upload)
      : ledger(std::move(ledger)), upload(upload) {}
  QuotaAllowance(QuotaAllowance&&) = default;
  QuotaAllowance& operator=(QuotaAllowance&&) = delete;
  ~QuotaAllowance() {
    if (ledger != nullptr) ledger->End(upload, committed);
  }

  std::shared_ptr<QuotaLedger> ledger;  // null once moved from
  QuotaLedger::Upload upload;
  uint64_t size = 0;    // the file's size as far as we know
  bool append = false;  // WRITE offsets are ignored: data goes at the end
  // A commit (CLOSE or fsync) was asked for: what the upload reserved may
  // be in the backend's usage from then on.
  bool committed = false;
};

struct Handle {
  std::string id;
  std::string path;  // normalized, session view
  bool is_dir = false;
  // Files: READs come from `reader` (null when not opened for reading),
  // WRITEs go to `upload` (null when not opened for writing).
  std::unique_ptr<ReadAhead> reader;
  std::unique_ptr<Upload> upload;
  // FSETSTAT on an upload: applied after the commit, so the attributes
  // land on the committed file, not the one it replaces.
  std::optional<v1::Attributes> deferred_attributes;
  // Set for uploads of a user with a quota.
  std::optional<QuotaAllowance> quota;
  // Directories.
  std::unique_ptr<DirListing> listing;

  uint64_t bytes_read = 0;
  // The first error a READ on this handle got (EOF is none): what the
  // download's `transfer` line reports.
  grpc::Status read_error;
  // OPEN answered with this file handle and its `transfer` line is not
  // logged yet: the session logs one when it ends first ("aborted").
  bool transfer_open = false;
  // Requests on this handle not answered yet (READ, READDIR, copy-data).
  // CLOSE waits for them: it runs `on_idle` once they are done.
  int pending = 0;
  absl::AnyInvocable<void()> on_idle;
  backend::Clock::time_point opened = backend::Clock::now();
};

class HandleTable {
 public:
  explicit HandleTable(size_t max_open) : max_open_(max_open) {}

  bool full() const { return open_.size() + opening_.size() >= max_open_; }
  size_t open_count() const { return open_.size(); }

  // Adds `handle`, giving it its id. Returns nullptr when full.
  Handle* Add(std::unique_ptr<Handle> handle);
  // Adds `handle` (its id given, its slot taken) while its OPEN still waits
  // for the backend: not found until FinishOpening. nullptr when full.
  Handle* AddOpening(std::unique_ptr<Handle> handle);
  // The OPEN succeeded: the handle is found from now on.
  void FinishOpening(absl::string_view id);
  // The OPEN failed: moves the handle to the closing set (to Release).
  void DropOpening(absl::string_view id);
  // The open handle named `id`, or nullptr.
  Handle* Find(absl::string_view id);
  // Moves an open handle to the closing set (no longer found).
  Handle* BeginClose(absl::string_view id);
  // A handle in the closing set, or nullptr.
  Handle* FindClosing(absl::string_view id);
  // Destroys a closing handle.
  void Release(absl::string_view id);
  // Every handle (opening, open and closing), e.g. to check stream
  // timeouts.
  std::vector<Handle*> All();
  // Removes and returns everything (session shutdown).
  std::vector<std::unique_ptr<Handle>> TakeAll();

 private:
  using Map = absl::flat_hash_map<std::string, std::unique_ptr<Handle>>;
  Handle* Insert(Map& into, std::unique_ptr<Handle> handle);

  const size_t max_open_;
  uint64_t next_id_ = 1;
  Map open_;
  Map opening_;
  Map closing_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_HANDLE_TABLE_H_
