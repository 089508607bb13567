#include "server/exec/scp_session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/log.h"
#include "server/sftp/sftp_metrics.h"
#include "server/sftp/sftp_session.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::exec {
namespace {

constexpr uint32_t kTypeMask = 0170000;
constexpr uint32_t kRegular = 0100000;
constexpr uint32_t kDirectory = 0040000;
constexpr uint32_t kSymlink = 0120000;
// Directory levels a download descends (symlinks may form cycles).
constexpr size_t kMaxDepth = 64;
// Entries of one directory held while sending it.
constexpr size_t kMaxEntries = 1000000;
// Zeros sent at a time for a file that shrank while being sent.
constexpr size_t kPadChunk = 64 * 1024;

// What OpenSSH's scp prints (strerror) for a backend answer.
std::string Describe(absl::string_view path, const grpc::Status& status) {
  return absl::StrCat(path, ": ", ErrorText(status));
}

}  // namespace

ScpSession::ScpSession(ScpCommand command, SftpSessionOptions options)
    : ExecSession(std::move(options)), command_(std::move(command)) {}

ScpSession::~ScpSession() = default;

void ScpSession::Stat(
    const std::string& path,
    absl::AnyInvocable<void(const grpc::Status&, const v1::Attributes&)> done) {
  v1::StatRequest request;
  request.set_path(path);
  request.set_follow_symlinks(true);
  input_ = Input::kHold;
  backend()->Stat(std::move(request),
                  [done = std::move(done)](const grpc::Status& status,
                                           v1::StatResponse& response) mutable {
                    done(status, response.attributes());
                  });
}

void ScpSession::SetTimesAndMode(
    const std::string& path, const std::optional<ScpTimesRecord>& times,
    std::optional<uint32_t> mode,
    absl::AnyInvocable<void(const grpc::Status&)> done) {
  if (!times.has_value() && !mode.has_value()) return done(grpc::Status::OK);
  v1::SetStatRequest request;
  request.set_path(path);
  request.set_follow_symlinks(true);
  if (times.has_value()) {
    request.mutable_attributes()->set_mtime(times->mtime);
    request.mutable_attributes()->set_atime(times->atime);
  }
  if (mode.has_value()) request.mutable_attributes()->set_mode(*mode & 07777);
  input_ = Input::kHold;
  backend()->SetStat(
      std::move(request),
      [done = std::move(done)](const grpc::Status& status,
                               v1::SetStatResponse&) mutable { done(status); });
}

void ScpSession::SendError(absl::string_view message) {
  ++errors_;
  Out(ScpErrorLine(message));
}

void ScpSession::Fatal(absl::string_view message) {
  LogEvent(LogLevel::kWarning, "scp_protocol_error",
           {{"session", options().session.session_id()},
            {"user", options().session.user()},
            {"reason", std::string(message)}});
  Out(ScpErrorLine(message));
  upload_.reset();  // never commit a file the protocol did not finish
  Exit(1);
}

void ScpSession::LogTransfer(absl::string_view direction,
                             const std::string& path, uint64_t bytes,
                             absl::string_view result,
                             std::chrono::steady_clock::time_point start,
                             const grpc::Status& status) const {
  if (result != "aborted") {
    CountOperation(direction == "upload" ? "scp-upload" : "scp-download",
                   status);
  }
  LogEvent(LogLevel::kInfo, "transfer",
           {{"session", options().session.session_id()},
            {"user", options().session.user()},
            {"protocol", "scp"},
            {"direction", std::string(direction)},
            {"path", path},
            {"bytes", absl::StrCat(bytes)},
            {"result", std::string(result)},
            {"ms", absl::StrFormat("%.1f",
                                   std::chrono::duration<double, std::milli>(
                                       std::chrono::steady_clock::now() - start)
                                       .count())}});
}

void ScpSession::Run() {
  if (command_.sink) {
    absl::StatusOr<std::string> target = NormalizePath(command_.paths[0]);
    if (!target.ok())
      return Fatal(
          absl::StrCat(command_.paths[0], ": ", target.status().message()));
    const std::string path = *target;
    dirs_.push_back(SinkDir{path, false, std::nullopt, std::nullopt});
    Stat(path, [this](const grpc::Status& status, const v1::Attributes& a) {
      SinkStart(status, a);
    });
    return;
  }
  // The client (sink) speaks first: one \0 when it is ready.
  AwaitAck([this](bool ok, bool) {
    if (!ok) return Exit(1);
    SourceStep();
  });
}

bool ScpSession::Busy() const {
  // kHold: a backend call or a download is under way; blocked_: an upload
  // chunk waits for the backend. Otherwise the client is to speak.
  return input_ == Input::kHold || blocked_ || rate_waiting();
}

void ScpSession::OnShutdown() {
  if (upload_ != nullptr) {
    LogTransfer("upload", file_.path, file_.received, "aborted", file_.start);
  }
  if (stream_ != nullptr) {
    LogTransfer("download", send_path_, sent_, "aborted", send_start_);
  }
  upload_.reset();  // cancels: nothing partial is committed
  stream_.reset();
  listing_.reset();
}

// ---------------------------------------------------------------------------
// Input.

bool ScpSession::TakeLine(absl::string_view data, size_t* used) {
  const size_t newline = data.find('\n', *used);
  const size_t end = newline == absl::string_view::npos ? data.size() : newline;
  absl::StrAppend(&line_, data.substr(*used, end - *used));
  *used = newline == absl::string_view::npos ? data.size() : newline + 1;
  if (line_.size() > kMaxScpRecord) {
    Fatal("protocol error: record too long");
    return false;
  }
  return newline != absl::string_view::npos;
}

size_t ScpSession::OnInput(absl::string_view data) {
  size_t used = 0;
  while (used < data.size() && !finished()) {
    switch (input_) {
      case Input::kHold:
        return used;
      case Input::kRecord:
        if (TakeLine(data, &used)) {
          input_ = Input::kHold;
          SinkRecord(std::exchange(line_, {}));
        }
        break;
      case Input::kFileData:
        if (blocked_) return used;
        if (!RateReady(options().upload_rate.get(),
                       [this] { ResumeInput(); })) {
          return used;
        }
        used += SinkData(data.substr(used));
        break;
      case Input::kFileStatus: {
        const char c = data[used++];
        if (c == '\0') {
          SinkEndFile(true);
        } else {
          input_ = Input::kFileMessage;
        }
        break;
      }
      case Input::kFileMessage:
        if (TakeLine(data, &used)) {
          line_.clear();
          SinkEndFile(false);
        }
        break;
      case Input::kAck: {
        const char c = data[used++];
        if (c == '\0') {
          input_ = Input::kHold;
          std::exchange(ack_done_, nullptr)(true, false);
        } else if (c == '\1' || c == '\2') {
          ack_fatal_ = c == '\2';
          input_ = Input::kAckMessage;
        } else {
          Fatal("protocol error: unexpected reply");
        }
        break;
      }
      case Input::kAckMessage:
        if (TakeLine(data, &used)) {
          // The client printed its error itself; we only count it.
          line_.clear();
          ++errors_;
          input_ = Input::kHold;
          std::exchange(ack_done_, nullptr)(false, ack_fatal_);
        }
        break;
    }
  }
  return used;
}

void ScpSession::OnEndOfInput() {
  input_ended_ = true;
  if (command_.sink && input_ == Input::kRecord) {
    return Exit(errors_ > 0 ? 1 : 0);
  }
  if (command_.sink && input_ == Input::kHold) {
    return;  // a backend call is pending; SinkAck/SinkRefuse end it
  }
  // The client went away in the middle of something.
  if (upload_ != nullptr) {
    LogTransfer("upload", file_.path, file_.received, "aborted", file_.start);
    upload_.reset();
  }
  if (stream_ != nullptr) {
    LogTransfer("download", send_path_, sent_, "aborted", send_start_);
    stream_.reset();
  }
  Exit(1);
}

// ---------------------------------------------------------------------------
// Sink (scp -t): the client sends records and file bodies.

void ScpSession::SinkStart(const grpc::Status& status,
                           const v1::Attributes& attrs) {
  dirs_[0].is_dir = status.ok() && (attrs.mode() & kTypeMask) == kDirectory;
  if (command_.target_dir && !dirs_[0].is_dir) {
    return Fatal(absl::StrCat(dirs_[0].path, ": Not a directory"));
  }
  SinkAck();
}

void ScpSession::SinkAck() {
  Out(std::string(1, '\0'));
  if (input_ended_) return Exit(errors_ > 0 ? 1 : 0);
  input_ = Input::kRecord;
  ResumeInput();
}

void ScpSession::SinkRefuse(absl::string_view message) {
  SendError(message);
  if (input_ended_) return Exit(1);
  input_ = Input::kRecord;
  ResumeInput();
}

void ScpSession::SinkRecord(const std::string& line) {
  if (line.empty()) return Fatal("protocol error: empty record");
  switch (line[0]) {
    case '\1':
    case '\2':
      // The client could not read one of its files: it said so on its
      // side; a \2 means it gives up.
      ++errors_;
      if (line[0] == '\2') return Exit(1);
      input_ = Input::kRecord;
      return;
    case 'E':
      if (line != "E") return Fatal("protocol error: bad E record");
      if (dirs_.size() < 2) return Fatal("protocol error: unexpected E");
      return SinkEndDirectory();
    case 'T': {
      absl::StatusOr<ScpTimesRecord> times = ParseScpTimes(line);
      if (!times.ok()) {
        return Fatal(
            absl::StrCat("protocol error: ", times.status().message()));
      }
      pending_times_ = *times;
      return SinkAck();
    }
    case 'C':
    case 'D':
      break;
    default:
      return Fatal("protocol error: expected control record");
  }
  absl::StatusOr<ScpEntryRecord> entry = ParseScpEntry(line);
  if (!entry.ok()) {
    return Fatal(absl::StrCat("protocol error: ", entry.status().message()));
  }
  std::optional<ScpTimesRecord> times = std::exchange(pending_times_, {});
  if (entry->directory && !command_.recursive) {
    return Fatal("received directory without -r");
  }
  const SinkDir& top = dirs_.back();
  std::string path = top.is_dir ? JoinPath(top.path, entry->name) : top.path;
  if (options().session.read_only()) {
    // As SFTP refuses it, before anything reaches the backend.
    return SinkRefuse(absl::StrCat(path,
                                   ": Permission denied (read-only "
                                   "session)"));
  }
  if (entry->directory) {
    return SinkDirectory(std::move(path), *entry, times);
  }
  SinkBeginFile(std::move(path), *entry, times);
}

void ScpSession::SinkDirectory(std::string path, const ScpEntryRecord& entry,
                               std::optional<ScpTimesRecord> times) {
  Stat(path, [this, path, entry, times](const grpc::Status& status,
                                        const v1::Attributes& attrs) {
    const bool preserve = command_.preserve;
    if (status.ok()) {
      if ((attrs.mode() & kTypeMask) != kDirectory) {
        return SinkRefuse(absl::StrCat(path, ": Not a directory"));
      }
      // An existing directory keeps its mode unless -p asks for it.
      dirs_.push_back(
          {path, true, preserve ? times : std::nullopt,
           preserve ? std::optional<uint32_t>(entry.mode) : std::nullopt});
      return SinkAck();
    }
    if (status.error_code() != grpc::StatusCode::NOT_FOUND) {
      return SinkRefuse(Describe(path, status));
    }
    v1::MakeDirRequest mkdir;
    mkdir.set_path(path);
    // Writable by us while it is filled; its own mode is set when it ends
    // (as OpenSSH's sink does).
    mkdir.mutable_attributes()->set_mode((entry.mode | 0700) & 07777);
    input_ = Input::kHold;
    backend()->MakeDir(std::move(mkdir), [this, path, entry, times, preserve](
                                             const grpc::Status& status,
                                             v1::MakeDirResponse&) {
      CountOperation("scp-mkdir", status);
      if (!status.ok()) return SinkRefuse(Describe(path, status));
      Notify(v1::EVENT_KIND_MKDIR, path);
      LogEvent(LogLevel::kInfo, "scp_mkdir",
               {{"session", options().session.session_id()},
                {"user", options().session.user()},
                {"path", path}});
      std::optional<uint32_t> mode;
      if (preserve || (entry.mode | 0700) != entry.mode) {
        mode = entry.mode;
      }
      dirs_.push_back({path, true, preserve ? times : std::nullopt, mode});
      SinkAck();
    });
  });
}

void ScpSession::SinkEndDirectory() {
  SinkDir dir = std::move(dirs_.back());
  dirs_.pop_back();
  SetTimesAndMode(dir.path, dir.times, dir.final_mode,
                  [this, path = dir.path](const grpc::Status& status) {
                    if (!status.ok()) return SinkRefuse(Describe(path, status));
                    SinkAck();
                  });
}

void ScpSession::SinkBeginFile(std::string path, const ScpEntryRecord& entry,
                               std::optional<ScpTimesRecord> times) {
  file_ = SinkFile();
  file_.path = path;
  file_.size = entry.size;
  file_.mode = entry.mode;
  file_.times = times;
  file_.start = std::chrono::steady_clock::now();
  sftp::Upload::Options upload;
  upload.path = std::move(path);
  upload.flags = v1::WriteHeader::FLAG_CREATE | v1::WriteHeader::FLAG_TRUNCATE;
  upload.attributes.set_mode(entry.mode & 07777);
  upload.random_write = false;
  upload.start_offset = 0;
  upload.max_chunk = max_chunk();
  upload_ = std::make_unique<sftp::Upload>(backend(), std::move(upload));
  Out(std::string(1, '\0'));
  input_ = entry.size > 0 ? Input::kFileData : Input::kFileStatus;
  ResumeInput();
}

size_t ScpSession::SinkData(absl::string_view data) {
  const size_t n = static_cast<size_t>(
      std::min<uint64_t>(data.size(), file_.size - file_.received));
  const uint64_t offset = file_.received;
  file_.received += n;
  if (options().upload_rate != nullptr) {
    options().upload_rate->Charge(n, sftp::RateLimiter::Clock::now());
  }
  sftp::SftpMetrics::Get().bytes_written()->Increment(n);
  if (file_.received == file_.size) input_ = Input::kFileStatus;
  if (file_.error.ok()) {
    auto answered = std::make_shared<bool>(false);
    auto in_call = std::make_shared<bool>(true);
    upload_->Write(offset, data.substr(0, n),
                   [this, weak = weak_from_this(), answered,
                    in_call](const grpc::Status& status) {
                     if (weak.lock() == nullptr || finished()) return;
                     if (!status.ok() && file_.error.ok()) file_.error = status;
                     *answered = true;
                     if (*in_call) return;
                     // Answered later: the Upload's queue had no room.
                     blocked_ = false;
                     ResumeInput();
                   });
    *in_call = false;
    if (!*answered) blocked_ = true;
  }
  return n;
}

void ScpSession::SinkEndFile(bool client_ok) {
  input_ = Input::kHold;
  if (!client_ok) {
    // The client could not read all of its file: drop what came.
    ++errors_;
    upload_.reset();
    LogTransfer("upload", file_.path, file_.received, "aborted", file_.start);
    return SinkAck();
  }
  if (!file_.error.ok()) {
    upload_.reset();
    LogTransfer("upload", file_.path, file_.received, "failed", file_.start,
                file_.error);
    return SinkRefuse(Describe(file_.path, file_.error));
  }
  upload_->Commit([this, weak = weak_from_this()](const grpc::Status& status) {
    if (weak.lock() == nullptr || finished()) return;
    // Not inside the Upload's own callback: SinkCommitted drops it.
    Later([this, status] { SinkCommitted(status); });
  });
}

void ScpSession::SinkCommitted(const grpc::Status& status) {
  const uint64_t committed = upload_->committed_size();
  upload_.reset();
  if (!status.ok()) {
    LogTransfer("upload", file_.path, file_.received, "failed", file_.start,
                status);
    return SinkRefuse(Describe(file_.path, status));
  }
  LogTransfer("upload", file_.path, file_.received, "ok", file_.start);
  Notify(v1::EVENT_KIND_UPLOAD, file_.path, committed,
         std::chrono::steady_clock::now() - file_.start);
  std::optional<uint32_t> mode;
  if (command_.preserve) mode = file_.mode;
  SetTimesAndMode(file_.path, command_.preserve ? file_.times : std::nullopt,
                  mode, [this](const grpc::Status& status) {
                    if (!status.ok()) {
                      return SinkRefuse(Describe(file_.path, status));
                    }
                    SinkAck();
                  });
}

// ---------------------------------------------------------------------------
// Source (scp -f): we send records and file bodies; the client answers.

void ScpSession::AwaitAck(AckDone done) {
  ack_done_ = std::move(done);
  input_ = Input::kAck;
  ResumeInput();
}

void ScpSession::SourceStep() {
  if (!source_dirs_.empty()) {
    SourceDir& dir = source_dirs_.back();
    if (dir.next < dir.entries.size()) {
      const v1::DirEntry& entry = dir.entries[dir.next++];
      return SourceEntry(JoinPath(dir.path, entry.name()), entry.name(),
                         entry.attributes(), false);
    }
    source_dirs_.pop_back();
    Out("E\n");
    return AwaitAck([this](bool, bool fatal) {
      if (fatal) return Exit(1);
      SourceStep();
    });
  }
  if (next_path_ >= command_.paths.size()) return Exit(errors_ > 0 ? 1 : 0);
  const std::string& given = command_.paths[next_path_++];
  absl::StatusOr<std::string> path = NormalizePath(given);
  if (!path.ok()) {
    SendError(absl::StrCat(given, ": ", path.status().message()));
    return SourceStep();
  }
  const std::string name(SplitPath(*path).base);
  Stat(*path, [this, path = *path, name, given](const grpc::Status& status,
                                                const v1::Attributes& attrs) {
    if (!status.ok()) {
      SendError(Describe(given, status));
      return SourceStep();
    }
    if (name.empty()) {
      SendError(absl::StrCat(given, ": not a regular file"));
      return SourceStep();
    }
    SourceEntry(path, name, attrs, true);
  });
}

void ScpSession::SourceEntry(std::string path, std::string name,
                             const v1::Attributes& attrs, bool resolved) {
  const uint32_t type = attrs.mode() & kTypeMask;
  if (type == kSymlink && !resolved) {
    // Listings describe links; scp sends what they point to.
    return Stat(path, [this, path, name](const grpc::Status& status,
                                         const v1::Attributes& target) {
      if (!status.ok()) {
        SendError(Describe(path, status));
        return SourceStep();
      }
      SourceEntry(path, name, target, true);
    });
  }
  if (type == kDirectory && command_.recursive) {
    return SourceDirectory(std::move(path), std::move(name), attrs);
  }
  if (type != kRegular) {
    SendError(absl::StrCat(path, ": not a regular file"));
    return SourceStep();
  }
  SourceFile(std::move(path), std::move(name), attrs);
}

void ScpSession::SourceDirectory(std::string path, std::string name,
                                 const v1::Attributes& attrs) {
  if (source_dirs_.size() >= kMaxDepth) {
    SendError(absl::StrCat(path, ": too many directory levels"));
    return SourceStep();
  }
  auto send_record = [this, path, name, attrs]() {
    ScpEntryRecord record;
    record.directory = true;
    record.mode = attrs.mode() & 07777;
    record.name = name;
    Out(ScpEntryLine(record));
    AwaitAck([this, path](bool ok, bool fatal) {
      if (fatal) return Exit(1);
      if (!ok) return SourceStep();  // the client skips it
      source_dirs_.push_back(SourceDir{path, {}, 0});
      v1::ListDirRequest request;
      request.set_path(path);
      std::weak_ptr<SftpSession> weak = weak_from_this();
      listing_ = backend()->ListDir(
          std::move(request),
          {[this, weak](v1::ListDirResponse batch) {
             if (weak.lock() == nullptr || finished()) return;
             auto& entries = source_dirs_.back().entries;
             for (v1::DirEntry& e : *batch.mutable_entries()) {
               if (entries.size() < kMaxEntries) {
                 entries.push_back(std::move(e));
               }
             }
             listing_->RequestNext();
           },
           [this, weak, path](const grpc::Status& status) {
             if (weak.lock() == nullptr || finished()) return;
             Later([this, path, status] {
               listing_.reset();
               if (!status.ok()) {
                 // Close the directory the client has opened.
                 source_dirs_.back().entries.clear();
                 SendError(Describe(path, status));
               }
               SourceStep();
             });
           }});
    });
  };
  WithTimes(attrs, std::move(send_record));
}

void ScpSession::WithTimes(const v1::Attributes& attrs,
                           absl::AnyInvocable<void()> send_record) {
  if (!command_.preserve) return send_record();
  Out(ScpTimesLine(attrs.mtime(), attrs.atime()));
  AwaitAck([this, send_record = std::move(send_record)](bool ok,
                                                        bool fatal) mutable {
    if (fatal) return Exit(1);
    if (!ok) return SourceStep();
    send_record();
  });
}

void ScpSession::SourceFile(std::string path, std::string name,
                            const v1::Attributes& attrs) {
  auto send_record = [this, path, name, attrs]() {
    ScpEntryRecord record;
    record.mode = attrs.mode() & 07777;
    record.size = attrs.size();
    record.name = name;
    Out(ScpEntryLine(record));
    AwaitAck([this, path, size = attrs.size()](bool ok, bool fatal) {
      if (fatal) return Exit(1);
      if (!ok) return SourceStep();  // the client cannot take it
      send_path_ = path;
      send_size_ = size;
      sent_ = 0;
      stream_done_ = false;
      stream_status_ = grpc::Status::OK;
      send_start_ = std::chrono::steady_clock::now();
      SourceStream();
    });
  };
  WithTimes(attrs, std::move(send_record));
}

void ScpSession::SourceStream() {
  if (send_size_ == 0) {
    stream_done_ = true;
    return SourceFileDone();
  }
  v1::ReadRequest request;
  request.set_path(send_path_);
  request.set_length(send_size_);
  request.set_chunk_size(max_chunk());
  std::weak_ptr<SftpSession> weak = weak_from_this();
  chunk_requested_ = true;
  chunk_requested_at_ = std::chrono::steady_clock::now();
  stream_ = backend()->Read(
      std::move(request),
      {[this, weak](backend::DataChunk chunk) {
         if (weak.lock() == nullptr || finished()) return;
         chunk_requested_ = false;
         const uint64_t n =
             std::min<uint64_t>(chunk.data().size(), send_size_ - sent_);
         if (chunk.offset() != sent_) {
           stream_status_ = grpc::Status(grpc::StatusCode::DATA_LOSS,
                                         "backend sent a chunk out of order");
           stream_done_ = true;
           stream_->Cancel();
           return SourcePump();
         }
         if (options().download_rate != nullptr) {
           options().download_rate->Charge(n, sftp::RateLimiter::Clock::now());
         }
         sftp::SftpMetrics::Get().bytes_read()->Increment(n);
         if (n == chunk.size()) {
           const size_t start = chunk.headroom();
           OutFrom(std::move(chunk).TakeBuffer(), start);
         } else {
           Out(std::string(chunk.data().substr(0, n)));
         }
         sent_ += n;
         SourcePump();
       },
       [this, weak](const grpc::Status& status) {
         if (weak.lock() == nullptr || finished()) return;
         stream_done_ = true;
         if (!status.ok()) stream_status_ = status;
         SourcePump();
       }});
}

void ScpSession::OnOutputDrained() { SourcePump(); }

void ScpSession::CheckTimeouts(std::chrono::steady_clock::time_point now) {
  // An upload whose writes or commit wait too long fails them: the file
  // is refused, never committed.
  if (upload_ != nullptr) upload_->CheckTimeout(now);
  // A download waiting too long for its next chunk ends as a stream
  // error: zeros pad the announced size and the client gets the error.
  if (stream_ != nullptr && !stream_done_ && chunk_requested_ &&
      now - chunk_requested_at_ >= backend()->call_timeout()) {
    stream_status_ = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                  "backend read timed out");
    stream_done_ = true;
    stream_->Cancel();
    SourcePump();
  }
}

void ScpSession::SourcePump() {
  if (finished() || send_path_.empty()) return;
  const size_t limit = options().limits.max_queued_output;
  while (options().sink->QueuedBytes() < limit) {
    if (!stream_done_) {
      if (!chunk_requested_ && stream_ != nullptr) {
        if (!RateReady(options().download_rate.get(),
                       [this] { SourcePump(); })) {
          return;
        }
        chunk_requested_ = true;
        chunk_requested_at_ = std::chrono::steady_clock::now();
        stream_->RequestNext();
      }
      return;
    }
    if (sent_ >= send_size_) return SourceFileDone();
    // The file ended early (it shrank) or the stream failed: the client
    // expects the announced size, so pad with zeros and report the error
    // in place of the final \0, as OpenSSH's scp does.
    if (stream_status_.ok()) {
      stream_status_ =
          grpc::Status(grpc::StatusCode::DATA_LOSS, "file changed size");
    }
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kPadChunk, send_size_ - sent_));
    Out(std::string(n, '\0'));
    sent_ += n;
  }
}

void ScpSession::SourceFileDone() {
  const std::string path = std::exchange(send_path_, {});
  stream_.reset();
  if (stream_status_.ok()) {
    Out(std::string(1, '\0'));
  } else {
    SendError(Describe(path, stream_status_));
  }
  LogTransfer("download", path, sent_, stream_status_.ok() ? "ok" : "failed",
              send_start_, stream_status_);
  if (stream_status_.ok()) {
    Notify(v1::EVENT_KIND_DOWNLOAD, path, sent_,
           std::chrono::steady_clock::now() - send_start_);
  }
  AwaitAck([this](bool, bool fatal) {
    if (fatal) return Exit(1);
    SourceStep();
  });
}

}  // namespace sftpgate::server::exec
