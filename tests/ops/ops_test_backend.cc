// sftpgate-ops-test-backend: the in-memory sample backend with slow paths,
// for the operations tests (tests/ops).
//
//  - STAT of a file named "slow-S" (S seconds, may be fractional) sleeps S
//    seconds first, so a test can keep requests in flight. Concurrent slow
//    STATs are counted: STAT of "/peak" answers with size = the most that
//    were ever in progress at once.
//  - Uploads to a file whose name starts with "slow" sleep --write_delay_ms
//    per chunk and log "slow write PATH offset=N", so a transfer lasts a
//    while and a test can tell it is under way.
// Everything else is sftpgate-memory-backend.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "memory_backend.h"
#include "sftpgate/backend_main.h"

ABSL_FLAG(int, write_delay_ms, 20,
          "Sleep per chunk written to a file named slow*");

namespace sftpgate {
namespace {

absl::string_view BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

class SlowWriter : public FileWriter {
 public:
  SlowWriter(std::unique_ptr<FileWriter> inner, std::string path,
             absl::Duration delay)
      : inner_(std::move(inner)), path_(std::move(path)), delay_(delay) {}

  absl::Status Write(uint64_t offset, absl::string_view data) override {
    std::fprintf(stderr, "slow write %s offset=%llu\n", path_.c_str(),
                 static_cast<unsigned long long>(offset));
    absl::SleepFor(delay_);
    return inner_->Write(offset, data);
  }
  absl::StatusOr<uint64_t> Commit() override { return inner_->Commit(); }
  void Abort() override { inner_->Abort(); }

 private:
  std::unique_ptr<FileWriter> inner_;
  const std::string path_;
  const absl::Duration delay_;
};

class SlowBackend : public memory::MemoryBackend {
 public:
  SlowBackend(memory::MemoryBackendOptions options, absl::Duration delay)
      : MemoryBackend(options), write_delay_(delay) {}

  absl::StatusOr<Attributes> Stat(const Session& session,
                                  absl::string_view path,
                                  bool follow_symlinks) override {
    Attributes attributes;
    attributes.set_mode(0100644);
    if (path == "/peak") {
      attributes.set_size(peak_.load());
      return attributes;
    }
    double seconds = 0;
    absl::string_view name = BaseName(path);
    if (!absl::ConsumePrefix(&name, "slow-") ||
        !absl::SimpleAtod(name, &seconds)) {
      return MemoryBackend::Stat(session, path, follow_symlinks);
    }
    int now = ++running_;
    int peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    absl::SleepFor(absl::Seconds(seconds));
    --running_;
    attributes.set_size(0);
    return attributes;
  }

  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session& session, const WriteHeader& header) override {
    absl::StatusOr<std::unique_ptr<FileWriter>> writer =
        MemoryBackend::OpenWrite(session, header);
    if (!writer.ok() || !absl::StartsWith(BaseName(header.path()), "slow")) {
      return writer;
    }
    return std::make_unique<SlowWriter>(*std::move(writer), header.path(),
                                        write_delay_);
  }

 private:
  const absl::Duration write_delay_;
  std::atomic<int> running_{0};
  std::atomic<int> peak_{0};
};

}  // namespace
}  // namespace sftpgate

int main(int argc, char** argv) {
  sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
      argc, argv,
      "The memory backend with slow paths, for sftpgate's ops tests.\n"
      "Usage: sftpgate-ops-test-backend --listen ADDR [--write_delay_ms N]");
  // Slow STATs each hold a server thread.
  options.threads = std::max(options.threads, 64);
  sftpgate::memory::MemoryBackendOptions memory;
  memory.uid = getuid();
  memory.gid = getgid();
  sftpgate::SlowBackend backend(
      memory, absl::Milliseconds(absl::GetFlag(FLAGS_write_delay_ms)));
  return sftpgate::RunBackend(options, &backend);
}
