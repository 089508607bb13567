// sftpgate-conformance-mutant: the in-memory sample backend with one
// deliberate contract violation, chosen by --mutation. The ctest entries
// conformance.mutant.* run the suite against each mutant and require the
// check that guards that rule to FAIL, which proves the suite can fail.
//
//   sftpgate-conformance-mutant --listen ADDR --mutation NAME

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "memory_backend.h"
#include "sftpgate/backend_main.h"

ABSL_FLAG(std::string, mutation, "",
          "which violation to commit (see kMutations)");

namespace sftpgate::conformance {
namespace {

constexpr absl::string_view kMutations[] = {
    "stat_missing_ok",
    "list_drops_entry",
    "abort_commits",
    "rename_ignores_overwrite",
    "truncate_ignored",
    "read_ignores_root",
    "reader_drops_byte",
    "symlink_unimplemented",
    "mkdir_exists_ok",
    "stat_hangs",
    "list_order_varies",
    "rmdir_without_message",
    "list_ignores_start_after",
    "hash_stale",
    "hash_range_ignored",
};

// Forwards to the real writer, except that an abort publishes the upload.
class CommitOnAbortWriter : public FileWriter {
 public:
  explicit CommitOnAbortWriter(std::unique_ptr<FileWriter> real)
      : real_(std::move(real)) {}
  absl::Status Write(uint64_t offset, absl::string_view data) override {
    return real_->Write(offset, data);
  }
  absl::StatusOr<uint64_t> Commit() override { return real_->Commit(); }
  void Abort() override { (void)real_->Commit(); }

 private:
  std::unique_ptr<FileWriter> real_;
};

// Forwards to the real reader but loses the first byte of its second read.
class LossyReader : public FileReader {
 public:
  explicit LossyReader(std::unique_ptr<FileReader> real)
      : real_(std::move(real)) {}
  absl::Status Read(size_t max_bytes, std::string* data) override {
    absl::Status status = real_->Read(max_bytes, data);
    if (status.ok() && ++reads_ == 2 && !data->empty()) data->erase(0, 1);
    return status;
  }

 private:
  std::unique_ptr<FileReader> real_;
  int reads_ = 0;
};

class MutantBackend : public memory::MemoryBackend {
 public:
  explicit MutantBackend(std::string mutation)
      : mutation_(std::move(mutation)) {}

  std::string Name() const override { return "mutant " + mutation_; }

  absl::StatusOr<Attributes> Stat(const Session& session,
                                  absl::string_view path,
                                  bool follow_symlinks) override {
    if (Is("stat_hangs") && absl::EndsWith(path, "/file")) {
      absl::SleepFor(absl::Seconds(2));
    }
    absl::StatusOr<Attributes> real =
        MemoryBackend::Stat(session, path, follow_symlinks);
    if (Is("stat_missing_ok") && absl::IsNotFound(real.status())) {
      Attributes invented;
      invented.set_mode(0100644);
      invented.set_size(0);
      return invented;
    }
    return real;
  }

  absl::Status MakeDir(const Session& session, absl::string_view path,
                       const Attributes& attributes) override {
    absl::Status real = MemoryBackend::MakeDir(session, path, attributes);
    if (Is("mkdir_exists_ok") && absl::IsAlreadyExists(real)) {
      return absl::OkStatus();
    }
    return real;
  }

  absl::Status RemoveDir(const Session& session,
                         absl::string_view path) override {
    absl::Status real = MemoryBackend::RemoveDir(session, path);
    if (Is("rmdir_without_message") && !real.ok()) {
      return absl::Status(real.code(), "");
    }
    return real;
  }

  absl::Status Rename(const Session& session, absl::string_view from,
                      absl::string_view to, bool overwrite) override {
    return MemoryBackend::Rename(session, from, to,
                                 overwrite || Is("rename_ignores_overwrite"));
  }

  absl::Status ListDir(const Session& session, absl::string_view path,
                       const DirEntrySink& sink) override {
    if (Is("list_order_varies")) {
      // Every other listing comes in reverse order.
      std::vector<DirEntry> entries;
      absl::Status status = MemoryBackend::ListDir(
          session, path, [&](DirEntry entry) -> absl::Status {
            entries.push_back(std::move(entry));
            return absl::OkStatus();
          });
      if (!status.ok()) return status;
      if (lists_.fetch_add(1) % 2 == 1) {
        std::reverse(entries.begin(), entries.end());
      }
      for (DirEntry& entry : entries) {
        absl::Status sent = sink(std::move(entry));
        if (!sent.ok()) return sent;
      }
      return absl::OkStatus();
    }
    return MemoryBackend::ListDir(
        session, path, [&](DirEntry entry) -> absl::Status {
          if (Is("list_drops_entry") && entry.name() == "entry-0777") {
            return absl::OkStatus();
          }
          return sink(std::move(entry));
        });
  }

  absl::Status ListDirAfter(const Session& session, absl::string_view path,
                            absl::string_view start_after,
                            const DirEntrySink& sink) override {
    // list_ignores_start_after lists from the start whatever the request
    // says. Otherwise through ListDir above, so that its mutations apply.
    if (Is("list_ignores_start_after") || start_after.empty()) {
      return ListDir(session, path, sink);
    }
    return Backend::ListDirAfter(session, path, start_after, sink);
  }

  absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path,
      uint64_t offset) override {
    Session used = session;
    if (Is("read_ignores_root")) used.set_root("/");
    absl::StatusOr<std::unique_ptr<FileReader>> real =
        MemoryBackend::OpenRead(used, path, offset);
    if (!real.ok() || !Is("reader_drops_byte")) return real;
    return std::make_unique<LossyReader>(*std::move(real));
  }

  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) override {
    WriteHeader used = header;
    if (Is("truncate_ignored")) {
      used.set_flags(header.flags() & ~WriteHeader::FLAG_TRUNCATE);
    }
    absl::StatusOr<std::unique_ptr<FileWriter>> real =
        MemoryBackend::OpenWrite(session, used);
    if (!real.ok() || !Is("abort_commits")) return real;
    return std::make_unique<CommitOnAbortWriter>(*std::move(real));
  }

  // hash_stale keeps the first digest it gives for a path and algorithm,
  // as a backend that stores digests at upload and misses a later change.
  // hash_range_ignored answers a range with the whole file's digest.
  absl::StatusOr<std::vector<std::string>> Hash(
      const Session& session, const HashRequest& request) override {
    HashRequest used = request;
    if (Is("hash_range_ignored")) {
      used.clear_offset();
      used.clear_length();
      used.clear_block_size();
    }
    absl::StatusOr<std::vector<std::string>> real =
        MemoryBackend::Hash(session, used);
    if (!Is("hash_stale") || !real.ok()) return real;
    absl::MutexLock lock(&mu_);
    const auto [kept, fresh] = digests_.try_emplace(
        absl::StrCat(request.path(), "\n", request.algorithm()), *real);
    return kept->second;
  }

  absl::Status Symlink(const Session& session, absl::string_view link_path,
                       absl::string_view target) override {
    if (Is("symlink_unimplemented")) {
      return absl::UnimplementedError("symlinks are not served");
    }
    return MemoryBackend::Symlink(session, link_path, target);
  }

 private:
  bool Is(absl::string_view mutation) const { return mutation_ == mutation; }

  const std::string mutation_;
  std::atomic<int> lists_{0};  // ListDir calls (list_order_varies)
  absl::Mutex mu_;
  // (path, algorithm) -> the first digests given (hash_stale)
  absl::flat_hash_map<std::string, std::vector<std::string>> digests_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace
}  // namespace sftpgate::conformance

int main(int argc, char** argv) {
  sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
      argc, argv,
      "The memory backend with one deliberate contract violation.\n"
      "Usage: sftpgate-conformance-mutant --listen ADDR --mutation NAME");
  const std::string mutation = absl::GetFlag(FLAGS_mutation);
  if (std::find(std::begin(sftpgate::conformance::kMutations),
                std::end(sftpgate::conformance::kMutations),
                mutation) == std::end(sftpgate::conformance::kMutations)) {
    std::fprintf(stderr, "error: unknown --mutation \"%s\"\n",
                 mutation.c_str());
    return 2;
  }
  sftpgate::conformance::MutantBackend backend(mutation);
  return sftpgate::RunBackend(options, &backend);
}
