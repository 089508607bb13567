// What a conformance check works with: the backend's capabilities, a
// client for the "conformance" session rooted at "/", a scratch directory
// of its own, and the shared helpers (write a whole file, read it back and
// verify the stream, list a directory completely, ...).
//
// Thread safety: an Environment is shared by all checks and safe to use
// from several threads. A Fixture belongs to the one check that runs in it;
// its helpers are const and may be called from the threads that check
// starts.

#ifndef SFTPGATE_TESTS_CONFORMANCE_FIXTURE_H_
#define SFTPGATE_TESTS_CONFORMANCE_FIXTURE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::conformance {

// Everything one run of the suite shares.
class Environment {
 public:
  // `run_id` makes session ids unique to this run.
  Environment(std::shared_ptr<v1::Backend::Stub> stub, absl::Duration timeout,
              std::string run_id);

  // A client for a new session (fresh session_id, user "conformance")
  // confined to `root`.
  Client NewSession(absl::string_view root, bool read_only = false);

  // The run's session with root "/".
  const Client& root() const { return root_; }

  // Bounds every call of every session from now on (the runner's per-check
  // limit); absl::InfiniteFuture() lifts it.
  void set_check_deadline(absl::Time deadline) {
    budget_->set_deadline(deadline);
  }

  // What Describe answered at the start of the run (empty if it failed).
  const v1::DescribeResponse& describe() const { return describe_; }
  void set_describe(v1::DescribeResponse describe) {
    describe_ = std::move(describe);
  }

  // Effective chunk limits from Describe (0 means the contract's default).
  uint32_t preferred_chunk_size() const;
  uint32_t max_chunk_size() const;

 private:
  std::shared_ptr<v1::Backend::Stub> stub_;
  absl::Duration timeout_;
  std::string run_id_;
  std::atomic<int> sessions_{0};
  std::shared_ptr<CallBudget> budget_ = std::make_shared<CallBudget>();
  Client root_;  // after the members NewSession uses
  v1::DescribeResponse describe_;
};

class Fixture {
 public:
  // `dir` is the check's scratch directory in the root session's view; it
  // exists when the check starts.
  Fixture(Environment* env, std::string dir);

  const v1::DescribeResponse& describe() const { return env_->describe(); }
  // The session with root "/".
  const Client& root() const { return env_->root(); }
  // The scratch directory, and `name` inside it.
  const std::string& dir() const { return dir_; }
  std::string Path(absl::string_view name) const;
  // A client for a new session confined to `root_path` (root view).
  Client SessionAt(absl::string_view root_path, bool read_only = false) const;
  // Effective Describe chunk sizes.
  uint32_t chunk_size() const;
  uint32_t max_chunk_size() const;

  // ---- Helpers. Each returns a check failure that names the call. ----

  // MakeDir that must succeed.
  absl::Status MakeDir(const Client& c, absl::string_view path) const;
  // Creates or replaces `path` (CREATE|TRUNCATE) with `data`, sent in
  // chunk_size() chunks; the committed size must equal data.size().
  absl::Status WriteFile(const Client& c, absl::string_view path,
                         absl::string_view data) const;
  // Reads the whole file; the stream must be well formed (see
  // ValidateChunks).
  absl::StatusOr<std::string> ReadFile(const Client& c,
                                       absl::string_view path) const;
  // The chunks of `result` must start at `offset`, be contiguous and none
  // may exceed max_chunk_size().
  absl::Status ValidateChunks(absl::string_view call, const ReadResult& result,
                              uint64_t offset) const;
  // Every entry of directory `path`; each name must be a single, non-empty
  // component other than "." and "..", and appear once.
  absl::StatusOr<std::vector<v1::DirEntry>> ListAll(
      const Client& c, absl::string_view path) const;
  // The listing of `path` holds exactly `names`; returns its entries.
  absl::StatusOr<std::vector<v1::DirEntry>> ExpectNames(
      const Client& c, absl::string_view path,
      const std::set<std::string>& names) const;
  // Attributes that must be readable.
  absl::StatusOr<v1::Attributes> StatOk(const Client& c, absl::string_view path,
                                        bool follow) const;

  // ---- Expectations about the state of the backend. ----

  absl::Status ExpectContent(const Client& c, absl::string_view path,
                             absl::string_view expected) const;
  // Lstat answers NOT_FOUND.
  absl::Status ExpectMissing(const Client& c, absl::string_view path) const;
  // The type bits of Stat (follow) or Lstat (!follow) equal `type`.
  absl::Status ExpectType(const Client& c, absl::string_view path,
                          uint32_t type, bool follow = false) const;
  // The permission bits (07777) of Lstat equal `perms`.
  absl::Status ExpectPermissions(const Client& c, absl::string_view path,
                                 uint32_t perms) const;

  // Removes `path` and everything beneath it (never follows symlinks).
  absl::Status RemoveTree(const Client& c, absl::string_view path) const;

 private:
  Environment* env_;
  std::string dir_;
};

// "file", "directory", "symlink" or the octal type bits.
std::string TypeName(uint32_t type);

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_FIXTURE_H_
