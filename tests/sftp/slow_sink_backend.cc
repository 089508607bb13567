// sftpgate-slow-sink-backend: a deliberately slow backend for the bounded
// memory test. It keeps only the names and sizes of uploaded files (one
// flat directory, no contents), and sleeps --write_delay_us before taking
// each chunk, so that a fast client outruns it and the front end has to
// apply backpressure instead of buffering. Reads return zeros.
//
//   sftpgate-slow-sink-backend --listen 127.0.0.1:0 --write_delay_us 2000
//
// Thread safety: the Backend methods lock `mu_`; a writer is used by one
// thread at a time (SDK contract).

#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/synchronization/mutex.h"
#include "sftpgate/attributes.h"
#include "sftpgate/backend.h"
#include "sftpgate/backend_main.h"
#include "sftpgate/paths.h"

ABSL_FLAG(int, write_delay_us, 2000, "Sleep before taking each chunk.");

namespace sftpgate::testing {
namespace {

class SlowSinkBackend final : public Backend {
 public:
  explicit SlowSinkBackend(std::chrono::microseconds delay) : delay_(delay) {}

  std::string Name() const override { return "slow-sink"; }

  absl::StatusOr<Attributes> Stat(const Session&, absl::string_view path,
                                  bool) override {
    if (path == "/") return MakeDirectoryAttributes(0755, 0);
    absl::MutexLock lock(&mu_);
    auto it = files_.find(std::string(path));
    if (it == files_.end()) return absl::NotFoundError("no such file");
    return MakeFileAttributes(it->second, 0644, 0);
  }

  absl::Status MakeDir(const Session&, absl::string_view,
                       const Attributes&) override {
    return absl::PermissionDeniedError("flat store");
  }
  absl::Status RemoveDir(const Session&, absl::string_view) override {
    return absl::PermissionDeniedError("flat store");
  }
  absl::Status Remove(const Session&, absl::string_view path) override {
    absl::MutexLock lock(&mu_);
    return files_.erase(std::string(path)) > 0
               ? absl::OkStatus()
               : absl::NotFoundError("no such file");
  }
  absl::Status Rename(const Session&, absl::string_view, absl::string_view,
                      bool) override {
    return absl::UnimplementedError("flat store");
  }
  absl::Status SetStat(const Session&, absl::string_view,
                       const Attributes&) override {
    return absl::OkStatus();  // nothing to keep
  }

  absl::Status ListDir(const Session&, absl::string_view path,
                       const DirEntrySink& sink) override {
    if (path != "/") return absl::NotFoundError("no such directory");
    std::map<std::string, uint64_t> files;
    {
      absl::MutexLock lock(&mu_);
      files = files_;
    }
    for (const auto& [name, size] : files) {
      DirEntry entry;
      entry.set_name(name.substr(1));
      *entry.mutable_attributes() = MakeFileAttributes(size, 0644, 0);
      absl::Status status = sink(std::move(entry));
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<FileReader>> OpenRead(
      const Session& session, absl::string_view path,
      uint64_t offset) override {
    absl::StatusOr<Attributes> attrs = Stat(session, path, true);
    if (!attrs.ok()) return attrs.status();
    return std::make_unique<Zeros>(offset, attrs->size());
  }

  absl::StatusOr<std::unique_ptr<FileWriter>> OpenWrite(
      const Session&, const WriteHeader& header) override {
    if (SplitPath(header.path()).parent != "/") {
      return absl::NotFoundError("flat store: no such directory");
    }
    return std::make_unique<Sink>(this, header.path());
  }

 private:
  class Zeros final : public FileReader {
   public:
    Zeros(uint64_t offset, uint64_t size) : offset_(offset), size_(size) {}
    absl::Status Read(size_t max_bytes, std::string* data) override {
      const uint64_t n =
          offset_ < size_ ? std::min<uint64_t>(max_bytes, size_ - offset_) : 0;
      data->assign(n, '\0');
      offset_ += n;
      return absl::OkStatus();
    }

   private:
    uint64_t offset_, size_;
  };

  class Sink final : public FileWriter {
   public:
    Sink(SlowSinkBackend* backend, std::string path)
        : backend_(backend), path_(std::move(path)) {}
    absl::Status Write(uint64_t offset, absl::string_view data) override {
      std::this_thread::sleep_for(backend_->delay_);
      size_ = std::max<uint64_t>(size_, offset + data.size());
      return absl::OkStatus();
    }
    absl::StatusOr<uint64_t> Commit() override {
      absl::MutexLock lock(&backend_->mu_);
      backend_->files_[path_] = size_;
      return size_;
    }
    void Abort() override {}

   private:
    SlowSinkBackend* const backend_;
    const std::string path_;
    uint64_t size_ = 0;
  };

  const std::chrono::microseconds delay_;
  absl::Mutex mu_;
  std::map<std::string, uint64_t> files_ ABSL_GUARDED_BY(mu_);  // "/name"
};

}  // namespace
}  // namespace sftpgate::testing

int main(int argc, char** argv) {
  sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
      argc, argv,
      "A slow, contents-free backend for the bounded memory test.\n"
      "Usage: sftpgate-slow-sink-backend --listen ADDR "
      "[--write_delay_us N]");
  sftpgate::testing::SlowSinkBackend backend(
      std::chrono::microseconds(absl::GetFlag(FLAGS_write_delay_us)));
  return sftpgate::RunBackend(options, &backend);
}
