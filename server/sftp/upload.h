// Upload: the WRITEs of one file handle, streamed to the backend over one
// Write stream (write-behind within the session's TransferBudget; strictly
// sequential chunks for backends without random writes; Commit() at CLOSE
// or fsync). Destroying it cancels the stream: nothing partial is
// published. The rules in full: docs/architecture.md, "Uploads".
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_SFTP_UPLOAD_H_
#define SFTPGATE_SERVER_SFTP_UPLOAD_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "server/backend/backend_client.h"

namespace sftpgate::server::sftp {

class Upload {
 public:
  struct Options {
    std::string path;
    uint32_t flags = 0;  // v1::WriteHeader::Flag bits
    v1::Attributes attributes;
    bool random_write = false;
    // Sequential mode: the offset the data starts at, when known (0 for a
    // new or truncated file); otherwise the first WRITE decides.
    std::optional<uint64_t> start_offset;
    uint32_t max_chunk = 1024 * 1024;  // split larger writes
    size_t queue_limit = 8 * 1024 * 1024;
    uint64_t reorder_window = 16 * 1024 * 1024;
    // Not owned, may be null; outlives the Upload. Counts the WRITE
    // answers that wait for queue room (their data is queued already):
    // the session takes no more input while any wait, so write-behind
    // stays within the budget plus the WRITE that filled it.
    size_t* waiting_for_room = nullptr;
  };
  using Done = absl::AnyInvocable<void(const grpc::Status&)>;

  Upload(std::shared_ptr<backend::BackendClient> backend, Options options);
  ~Upload();

  // Writes `data` at `offset`. `done` runs exactly once (possibly inside
  // this call) with OK once the bytes are accepted, or the error.
  void Write(uint64_t offset, absl::string_view data, Done done);

  // Commits everything written so far. `done` gets the backend's commit
  // status. WRITEs arriving meanwhile go to the next stream.
  void Commit(Done done);

  // Sets the file's size to `size` in order with the WRITEs around it, as
  // ftruncate(2) on the handle would: what was written so far is
  // committed, the committed file resized (the backend's SetStat), and
  // WRITEs arriving meanwhile wait and then continue the resized file.
  // `done` gets the commit's error or SetStat's status.
  void Resize(uint64_t size, Done done);

  // Runs `done` once the commits and resizes asked for before it are over
  // (at once when none is pending), so that a request that reads the file
  // (FSTAT) sees them. Its status is the upload's error, if it failed.
  void WhenSettled(Done done);

  // Fails the upload for good with `status`: the stream is cancelled (the
  // backend discards it), waiting WRITEs and the next commit get `status`.
  void Abort(const grpc::Status& status) { Fail(status); }

  // Fails what waits on the backend (and the upload) once it has made no
  // progress for longer than the call timeout.
  void CheckTimeout(backend::Clock::time_point now);

  // The file's size as the handle's writer sees it, given the size the
  // backend reports for the path (`stored`, 0 when it does not exist yet):
  // what the WRITEs accepted so far make of it once committed.
  uint64_t SizeOver(uint64_t stored) const;

  // The attributes the file will have if the upload creates it (type,
  // permission bits as given at OPEN or 0644), or nullopt when it only
  // writes to an existing file.
  std::optional<v1::Attributes> NewFileAttributes() const;

  // Bytes accepted from the client.
  uint64_t bytes_written() const { return bytes_written_; }
  // The file's size after the last successful commit, as the backend
  // reported it (0 before one).
  uint64_t committed_size() const { return committed_size_; }
  // Something waits on the backend (a WRITE answer or a commit).
  bool busy() const {
    return !blocked_.empty() || commit_done_ != nullptr || resizing_;
  }

 private:
  // A WRITE (or, with is_commit, a commit) that arrived while a commit was
  // in progress; replayed in order once it ends.
  struct Held {
    enum Kind { kWrite, kCommit, kResize, kSettled, kRefused } kind;
    uint64_t offset;  // kResize: the size
    std::string data;
    Done done;
    backend::BudgetCharge charge;  // for `data`
  };
  // A WRITE held back until the data before it arrives (sequential mode).
  struct Parked {
    std::string data;
    backend::BudgetCharge charge;  // for `data`
  };

  void WriteSequential(uint64_t offset, absl::string_view data, Done done);
  // A WRITE that arrived during a commit: held (charged) until it ends.
  void HoldDuringCommit(uint64_t offset, absl::string_view data, Done done);
  void Send(uint64_t offset, absl::string_view data);
  void EnsureStream(uint64_t first_offset);
  void Accept(Done done);
  void Fail(const grpc::Status& status);
  void OnProgress();
  // Whether a WRITE may be answered: the queue is under its limit and the
  // session's TransferBudget allows it.
  bool HasRoom() const;
  // Answers the blocked WRITEs that now fit in the queue, in order.
  void ReleaseBlocked();
  // Takes the oldest blocked WRITE answer (keeping waiting_for_room).
  Done PopBlocked();
  // Tells the stream whether to report progress (only while busy()).
  void WatchProgress();
  // A commit or resize is in progress, or requests wait for one: new
  // requests queue behind them.
  bool Holding() const {
    return commit_done_ != nullptr || resizing_ || !after_commit_.empty();
  }
  void OnFinish(const grpc::Status& status);
  void ReplayHeld();

  std::shared_ptr<backend::BackendClient> backend_;
  Options options_;

  std::shared_ptr<backend::WriteStream> stream_;
  grpc::Status failed_;  // sticky error; OK while healthy
  // Sequential mode: where the next chunk must start.
  bool have_next_ = false;
  uint64_t next_offset_ = 0;
  // Writes ahead of next_offset_ (sequential mode), by offset.
  std::map<uint64_t, Parked> parked_;
  uint64_t parked_bytes_ = 0;
  // WRITE answers waiting for queue room, in order.
  std::deque<Done> blocked_;
  // Commit in progress, and WRITEs that arrived during it.
  Done commit_done_;
  std::deque<Held> after_commit_;
  // The committed file is being resized (Resize's SetStat).
  bool resizing_ = false;
  // Expires with the Upload: Resize's SetStat answer may come later.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // Set when a WRITE during the commit did not fit in the budget: later
  // ones are refused at once, and the upload fails after the commit.
  grpc::Status refused_during_commit_;
  // Something was sent (or the flags require a stream) since the last
  // commit.
  bool dirty_ = false;
  uint64_t bytes_written_ = 0;
  // For SizeOver: the end of the furthest WRITE since the upload began or
  // was last resized, and the bytes appended since the last commit.
  uint64_t written_end_ = 0;
  uint64_t appended_ = 0;
  uint64_t committed_size_ = 0;
  backend::Clock::time_point last_progress_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_UPLOAD_H_
