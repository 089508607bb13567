// RecordingBackend: a tiny Backend for SDK tests. It stores nothing; it
// records what the host asked of it (calls, uploads, how listings ended)
// so tests can check the host's behavior over a real gRPC channel.
// Subclasses in the tests override optional methods to check Describe.
//
// Thread safety: every method is thread-safe (one mutex over the record).

#ifndef SFTPGATE_TESTS_SDK_RECORDING_BACKEND_H_
#define SFTPGATE_TESTS_SDK_RECORDING_BACKEND_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sftpgate/backend.h"

namespace sftpgate::testing {

class RecordingBackend : public Backend {
 public:
  struct Options {
    bool random_writes = false;
    // What every OpenRead reads.
    std::string content;
    // Entries ListDir emits ("e0", "e1", ...); it stops early when the
    // sink says so.
    uint64_t list_entries = 0;
    // FileWriter::Write fails with RESOURCE_EXHAUSTED at this offset or
    // beyond.
    uint64_t fail_writes_from = UINT64_MAX;
    // How long every Stat takes (a call in flight, for drain tests).
    absl::Duration stat_delay = absl::ZeroDuration();
  };

  struct Upload {
    WriteHeader header;
    std::string session_root;
    std::vector<std::pair<uint64_t, std::string>> writes;
    bool committed = false;
    bool aborted = false;
  };

  // Everything observed so far.
  struct Record {
    // "Op path" per call that reached the backend, e.g. "Stat /a".
    std::vector<std::string> calls;
    // Session roots as the backend saw them, per call.
    std::vector<std::string> roots;
    std::vector<Upload> uploads;
    // For each finished ListDir: entries emitted and the status returned.
    std::vector<std::pair<uint64_t, absl::Status>> listings;
    // For each FileReader destroyed: the offset it had read up to.
    std::vector<uint64_t> reads_ended;
  };

  explicit RecordingBackend(Options options) : options_(std::move(options)) {}
  RecordingBackend() : RecordingBackend(Options()) {}

  Record record() const;
  // Waits until `done(record)` holds; false on timeout.
  bool Await(std::function<bool(const Record&)> done,
             absl::Duration timeout = absl::Seconds(20)) const;

  std::string Name() const override { return "recording 1.0"; }
  absl::StatusOr<Attributes> Stat(const Session& session,
                                  absl::string_view path,
                                  bool follow_symlinks) override;
  absl::Status MakeDir(const Session& session, absl::string_view path,
                       const Attributes& attributes) override;
  absl::Status RemoveDir(const Session& session,
                         absl::string_view path) override;
  absl::Status Remove(const Session& session, absl::string_view path) override;
  absl::Status Rename(const Session& session, absl::string_view from,
                      absl::string_view to, bool overwrite) override;
  absl::Status SetStat(const Session& session, absl::string_view path,
                       const Attributes& attributes) override;
  absl::Status ListDir(const Session& session, absl::string_view path,
                       const DirEntrySink& sink) override;
  absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path, uint64_t offset) override;
  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) override;
  bool AcceptsRandomWrites() const override { return options_.random_writes; }

 protected:
  // Notes one call; returns OK.
  absl::Status Note(const Session& session, absl::string_view op,
                    absl::string_view path);

 private:
  class Reader;
  class Writer;

  const Options options_;
  mutable absl::Mutex mu_;
  Record record_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_RECORDING_BACKEND_H_
