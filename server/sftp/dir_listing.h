// DirListing: the READDIRs of one directory handle, served from one
// backend ListDir stream.
//
// The stream starts with OPENDIR; WaitStarted() reports when the first
// batch arrived (or the stream ended), which is when OPENDIR can answer
// with a handle or with the listing's error, without a separate Stat.
// Entries are buffered up to a bound, and charged to the session's
// TransferBudget; the next batch is requested only below the bound and,
// while the budget is exhausted, only once the buffer is empty (so a
// client cannot make many idle directory handles hold the whole listing).
// Next() hands out up to a given number of entries per READDIR, then EOF once
// the stream ended cleanly and the buffer is empty; an error that ends the
// stream is reported once the entries before it are out. A stream that breaks
// on the backend side (its replica died) is started again with `start_after`
// set to the last name received (the contract lists in ascending byte order
// of name), up to kMaxResumes times in a row without a new entry: entries
// present throughout are neither skipped nor repeated even if the directory
// changed meanwhile.
//
// Names a client must never see from a listing are dropped, with one
// warning per listing: empty, ".", "..", or holding '/' or NUL (a
// backend bug, or one trying to make a client write outside the
// directory it downloads).
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_SFTP_DIR_LISTING_H_
#define SFTPGATE_SERVER_SFTP_DIR_LISTING_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_client.h"

namespace sftpgate::server::sftp {

class DirListing {
 public:
  using StartedDone = absl::AnyInvocable<void(const grpc::Status&)>;
  // OK with entries (non-empty) or with eof; otherwise the error.
  using NextDone = absl::AnyInvocable<void(
      const grpc::Status&, std::vector<v1::DirEntry> entries, bool eof)>;

  // Starts listing `path`. `session_id`: for the log. `buffer_limit`:
  // entries held before pausing.
  DirListing(std::shared_ptr<backend::BackendClient> backend, std::string path,
             std::string session_id, size_t buffer_limit = 2048);
  ~DirListing();

  // `done` runs once, when the first batch arrived or the stream ended.
  void WaitStarted(StartedDone done);
  // One READDIR: up to `max_entries` entries whose names add up to at
  // most about `max_bytes`. `done` runs exactly once.
  void Next(size_t max_entries, size_t max_bytes, NextDone done);
  // Fails what waits when the backend made no progress within the call
  // timeout.
  void CheckTimeout(backend::Clock::time_point now);

  bool idle() const { return waiting_.empty() && started_done_ == nullptr; }

 private:
  struct Waiting {
    size_t max_entries;
    size_t max_bytes;
    NextDone done;
  };

  // Starts the ListDir call (again, after UNAVAILABLE).
  void StartStream();
  void Serve();
  void OnBatch(v1::ListDirResponse batch);
  void OnFinish(const grpc::Status& status);

  std::shared_ptr<backend::BackendClient> backend_;
  const std::string path_;
  const size_t buffer_limit_;
  std::shared_ptr<backend::IncomingStream<v1::ListDirResponse>> stream_;
  std::deque<v1::DirEntry> entries_;
  std::deque<Waiting> waiting_;
  StartedDone started_done_;
  bool started_ = false;
  bool finished_ = false;
  grpc::Status status_;
  backend::Clock::time_point last_progress_;
  // Whether `name` may reach a client (see the class comment).
  static bool IsClientSafeName(const std::string& name);

  const std::string session_id_;
  // The last name taken from the backend: where a resumed stream starts.
  std::string last_name_;
  bool resumed_ = false;
  bool warned_bad_name_ = false;
  // As in ReadAhead: two resumes reach a live replica when one is down.
  static constexpr int kMaxResumes = 2;
  int resumes_left_ = kMaxResumes;
  // Bytes of entries_ charged to the session's TransferBudget.
  size_t charged_ = 0;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_DIR_LISTING_H_
