#include "tests/sdk/recording_backend.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "sftpgate/attributes.h"

namespace sftpgate::testing {
// Reads options_.content; records how far it read when destroyed. One
// thread at a time (FileReader contract).
class RecordingBackend::Reader : public FileReader {
 public:
  Reader(RecordingBackend* backend, uint64_t offset)
      : backend_(backend),
        content_(backend->options_.content),
        offset_(offset) {}
  ~Reader() override {
    absl::MutexLock lock(&backend_->mu_);
    backend_->record_.reads_ended.push_back(offset_);
  }

  absl::Status Read(size_t max_bytes, std::string* data) override {
    if (offset_ >= content_.size()) {
      data->clear();
      return absl::OkStatus();
    }
    *data = content_.substr(offset_, max_bytes);
    offset_ += data->size();
    return absl::OkStatus();
  }

 private:
  RecordingBackend* const backend_;
  const std::string& content_;  // options_ outlives every reader
  uint64_t offset_;
};

// Records into the backend's Upload at `index`, under the backend's
// mutex. One thread at a time (FileWriter contract).
class RecordingBackend::Writer : public FileWriter {
 public:
  Writer(RecordingBackend* backend, size_t index)
      : backend_(backend), index_(index) {}

  absl::Status Write(uint64_t offset, absl::string_view data) override {
    if (offset >= backend_->options_.fail_writes_from) {
      return absl::ResourceExhaustedError("test backend is full");
    }
    absl::MutexLock lock(&backend_->mu_);
    backend_->record_.uploads[index_].writes.emplace_back(offset,
                                                          std::string(data));
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Commit() override {
    absl::MutexLock lock(&backend_->mu_);
    Upload& upload = backend_->record_.uploads[index_];
    upload.committed = true;
    uint64_t end = 0;
    for (const auto& [offset, data] : upload.writes) {
      end = std::max<uint64_t>(end, offset + data.size());
    }
    return end;
  }

  void Abort() override {
    absl::MutexLock lock(&backend_->mu_);
    backend_->record_.uploads[index_].aborted = true;
  }

 private:
  RecordingBackend* const backend_;
  const size_t index_;
};

RecordingBackend::Record RecordingBackend::record() const {
  absl::MutexLock lock(&mu_);
  return record_;
}

bool RecordingBackend::Await(std::function<bool(const Record&)> done,
                             absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  auto holds = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return done(record_); };
  return mu_.AwaitWithTimeout(absl::Condition(&holds), timeout);
}

absl::Status RecordingBackend::Note(const Session& session,
                                    absl::string_view op,
                                    absl::string_view path) {
  absl::MutexLock lock(&mu_);
  record_.calls.push_back(absl::StrCat(op, " ", path));
  record_.roots.push_back(session.root());
  return absl::OkStatus();
}

absl::StatusOr<Attributes> RecordingBackend::Stat(const Session& session,
                                                  absl::string_view path,
                                                  bool) {
  Note(session, "Stat", path).IgnoreError();
  absl::SleepFor(options_.stat_delay);
  return MakeFileAttributes(options_.content.size(), 0644, 0);
}

absl::Status RecordingBackend::MakeDir(const Session& session,
                                       absl::string_view path,
                                       const Attributes&) {
  return Note(session, "MakeDir", path);
}

absl::Status RecordingBackend::RemoveDir(const Session& session,
                                         absl::string_view path) {
  return Note(session, "RemoveDir", path);
}

absl::Status RecordingBackend::Remove(const Session& session,
                                      absl::string_view path) {
  return Note(session, "Remove", path);
}

absl::Status RecordingBackend::Rename(const Session& session,
                                      absl::string_view from,
                                      absl::string_view to, bool) {
  return Note(session, "Rename", absl::StrCat(from, " ", to));
}

absl::Status RecordingBackend::SetStat(const Session& session,
                                       absl::string_view path,
                                       const Attributes&) {
  return Note(session, "SetStat", path);
}

absl::Status RecordingBackend::ListDir(const Session& session,
                                       absl::string_view path,
                                       const DirEntrySink& sink) {
  Note(session, "ListDir", path).IgnoreError();
  uint64_t emitted = 0;
  absl::Status status;
  for (; emitted < options_.list_entries; ++emitted) {
    DirEntry entry;
    entry.set_name(absl::StrCat("e", emitted));
    *entry.mutable_attributes() = MakeFileAttributes(emitted, 0644, 0);
    status = sink(std::move(entry));
    if (!status.ok()) break;
  }
  absl::MutexLock lock(&mu_);
  record_.listings.emplace_back(emitted, status);
  return status;
}

absl::StatusOr<std::unique_ptr<FileReader>> RecordingBackend::OpenRead(
    const Session& session, absl::string_view path, uint64_t offset) {
  Note(session, "OpenRead", path).IgnoreError();
  return std::make_unique<Reader>(this, offset);
}

absl::StatusOr<std::unique_ptr<FileWriter>> RecordingBackend::OpenWrite(
    const Session& session, const WriteHeader& header) {
  Note(session, "OpenWrite", header.path()).IgnoreError();
  absl::MutexLock lock(&mu_);
  record_.uploads.push_back(Upload{header, session.root(), {}, false, false});
  return std::make_unique<Writer>(this, record_.uploads.size() - 1);
}

}  // namespace sftpgate::testing
