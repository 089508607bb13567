#include "server/sftp/upload.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate::server::sftp {
namespace {

constexpr uint32_t kCreate = v1::WriteHeader::FLAG_CREATE;
constexpr uint32_t kTruncate = v1::WriteHeader::FLAG_TRUNCATE;
constexpr uint32_t kExclusive = v1::WriteHeader::FLAG_EXCLUSIVE;
constexpr uint32_t kAppend = v1::WriteHeader::FLAG_APPEND;

}  // namespace

Upload::Upload(std::shared_ptr<backend::BackendClient> backend, Options options)
    : backend_(std::move(backend)), options_(std::move(options)) {
  // Creating or truncating must reach the backend even with no WRITE.
  dirty_ = (options_.flags & (kCreate | kTruncate)) != 0;
  if (options_.max_chunk == 0) options_.max_chunk = 1024 * 1024;
  if (options_.start_offset.has_value()) {
    have_next_ = true;
    next_offset_ = *options_.start_offset;
  }
}

Upload::~Upload() {
  // Dropping stream_ cancels: the backend aborts.
  if (options_.waiting_for_room != nullptr) {
    *options_.waiting_for_room -= blocked_.size();
  }
}

void Upload::Write(uint64_t offset, absl::string_view data, Done done) {
  if (!failed_.ok()) {
    done(failed_);
    return;
  }
  if (Holding()) {
    HoldDuringCommit(offset, data, std::move(done));
    return;
  }
  bytes_written_ += data.size();
  written_end_ = std::max(written_end_, offset + data.size());
  if (options_.flags & kAppend) appended_ += data.size();
  if (options_.flags & kAppend) {
    // Every chunk goes to the end of file; offsets only number chunks.
    offset = next_offset_;
  } else if (options_.random_write) {
    Send(offset, data);
    Accept(std::move(done));
    return;
  }
  WriteSequential(offset, data, std::move(done));
}

void Upload::WriteSequential(uint64_t offset, absl::string_view data,
                             Done done) {
  if (!have_next_) {
    have_next_ = true;
    next_offset_ = offset;
  }
  if (offset == next_offset_) {
    Send(offset, data);
    next_offset_ += data.size();
    // Held-back writes that now continue the file. Where one overlaps
    // what was just sent, the later WRITE wins, as with pwrite(2).
    // (Overlaps between two held-back writes are resolved by offset
    // order, not arrival order: clients do not overwrite regions they
    // still have in flight.)
    while (!parked_.empty() && parked_.begin()->first <= next_offset_) {
      auto node = parked_.extract(parked_.begin());
      const std::string& held = node.mapped().data;
      parked_bytes_ -= held.size();
      const uint64_t end = node.key() + held.size();
      if (end > next_offset_) {
        Send(next_offset_,
             absl::string_view(held).substr(next_offset_ - node.key()));
        next_offset_ = end;
      }
    }
    Accept(std::move(done));
    return;
  }
  const uint64_t end = offset + data.size();
  if (offset > next_offset_ && end - next_offset_ <= options_.reorder_window &&
      parked_bytes_ + data.size() <= options_.reorder_window) {
    backend::BudgetCharge charge =
        backend::BudgetCharge::TryCharge(&backend_->budget(), data.size());
    if (!charge.ok()) {
      Fail(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("non-sequential write at offset ", offset, " (expected ",
                       next_offset_,
                       "): holding it back would exceed the session's "
                       "transfer memory; this storage backend only accepts "
                       "sequential writes")));
      done(failed_);
      return;
    }
    auto [it, inserted] = parked_.try_emplace(offset);
    if (!inserted) parked_bytes_ -= it->second.data.size();
    it->second.data.assign(data.data(), data.size());
    it->second.charge = std::move(charge);
    parked_bytes_ += data.size();
    done(grpc::Status::OK);
    return;
  }
  Fail(grpc::Status(
      grpc::StatusCode::FAILED_PRECONDITION,
      absl::StrCat("non-sequential write at offset ", offset, " (expected ",
                   next_offset_,
                   "): this storage backend only accepts sequential "
                   "writes")));
  done(failed_);
}

void Upload::HoldDuringCommit(uint64_t offset, absl::string_view data,
                              Done done) {
  if (!refused_during_commit_.ok()) {
    done(refused_during_commit_);
    return;
  }
  backend::BudgetCharge charge =
      backend::BudgetCharge::TryCharge(&backend_->budget(), data.size());
  if (!charge.ok()) {
    refused_during_commit_ = grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "too much data written while the file is being committed: over the "
        "session's transfer memory");
    after_commit_.push_back({Held::kRefused, 0, std::string(), nullptr, {}});
    done(refused_during_commit_);
    return;
  }
  after_commit_.push_back({Held::kWrite, offset, std::string(data),
                           std::move(done), std::move(charge)});
}

void Upload::Send(uint64_t offset, absl::string_view data) {
  EnsureStream(offset);
  dirty_ = true;
  do {
    const size_t n = std::min<size_t>(data.size(), options_.max_chunk);
    stream_->Write(offset, data.substr(0, n));
    data.remove_prefix(n);
    offset += n;
  } while (!data.empty());
}

void Upload::EnsureStream(uint64_t first_offset) {
  if (stream_ != nullptr) return;
  v1::WriteHeader header;
  header.set_path(options_.path);
  header.set_flags(options_.flags);
  header.set_offset(first_offset);
  *header.mutable_attributes() = options_.attributes;
  last_progress_ = backend::Clock::now();
  stream_ = backend_->Write(
      std::move(header),
      {[this] { OnProgress(); },
       [this](const grpc::Status& status, uint64_t committed_size) {
         if (status.ok()) committed_size_ = committed_size;
         OnFinish(status);
       }});
}

bool Upload::HasRoom() const {
  const size_t queued = stream_->queued_bytes();
  // Over the session's budget an upload may still hold one message, so
  // that it never waits for another transfer.
  return queued <= options_.queue_limit &&
         (queued == 0 || !backend_->budget().exhausted());
}

void Upload::Accept(Done done) {
  if (blocked_.empty() && HasRoom()) {
    done(grpc::Status::OK);
    return;
  }
  if (blocked_.empty()) last_progress_ = backend::Clock::now();
  blocked_.push_back(std::move(done));
  if (options_.waiting_for_room != nullptr) ++*options_.waiting_for_room;
  WatchProgress();
  // gRPC may have taken messages before the stream saw that we watch.
  ReleaseBlocked();
}

void Upload::OnProgress() {
  last_progress_ = backend::Clock::now();
  ReleaseBlocked();
  WatchProgress();
}

void Upload::ReleaseBlocked() {
  while (!blocked_.empty() && stream_ != nullptr && HasRoom()) {
    PopBlocked()(grpc::Status::OK);
  }
}

Upload::Done Upload::PopBlocked() {
  Done done = std::move(blocked_.front());
  blocked_.pop_front();
  if (options_.waiting_for_room != nullptr) --*options_.waiting_for_room;
  return done;
}

void Upload::WatchProgress() {
  // Progress reports cost a post to the loop per message: only while a
  // WRITE answer waits for room or a commit waits (its timeout counts
  // from the last progress).
  if (stream_ != nullptr) stream_->set_want_progress(busy());
}

void Upload::Commit(Done done) {
  if (!failed_.ok()) {
    done(failed_);
    return;
  }
  if (Holding()) {
    after_commit_.push_back(
        {Held::kCommit, 0, std::string(), std::move(done), {}});
    return;
  }
  if (!parked_.empty()) {
    Fail(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      absl::StrCat("upload has a gap at offset ", next_offset_,
                                   ": non-sequential writes never filled")));
    done(failed_);
    return;
  }
  if (!dirty_) {
    done(grpc::Status::OK);
    return;
  }
  EnsureStream(next_offset_);
  commit_done_ = std::move(done);
  last_progress_ = backend::Clock::now();
  WatchProgress();
  stream_->Close();
}

uint64_t Upload::SizeOver(uint64_t stored) const {
  // Until the first commit a truncating upload replaces what is stored.
  const uint64_t base = (options_.flags & kTruncate) ? 0 : stored;
  if (options_.flags & kAppend) return base + appended_;
  return std::max(base, written_end_);
}

std::optional<v1::Attributes> Upload::NewFileAttributes() const {
  if (!(options_.flags & kCreate)) return std::nullopt;
  v1::Attributes attrs;
  const uint32_t permissions = options_.attributes.has_mode()
                                   ? options_.attributes.mode() & 07777
                                   : 0644;
  attrs.set_mode(0100000 | permissions);
  return attrs;
}

void Upload::WhenSettled(Done done) {
  if (Holding()) {
    after_commit_.push_back(
        {Held::kSettled, 0, std::string(), std::move(done), {}});
    return;
  }
  done(failed_);
}

void Upload::Resize(uint64_t size, Done done) {
  if (!failed_.ok()) {
    done(failed_);
    return;
  }
  if (Holding()) {
    after_commit_.push_back(
        {Held::kResize, size, std::string(), std::move(done), {}});
    return;
  }
  Commit(
      [this, size, done = std::move(done)](const grpc::Status& status) mutable {
        if (!status.ok()) return done(status);
        // Until SetStat answers, WRITEs and commits are held (Holding()).
        resizing_ = true;
        v1::SetStatRequest request;
        request.set_path(options_.path);
        request.mutable_attributes()->set_size(size);
        request.set_follow_symlinks(true);
        backend_->SetStat(
            std::move(request),
            [this, alive = std::weak_ptr<bool>(alive_), done = std::move(done)](
                const grpc::Status& status, v1::SetStatResponse&) mutable {
              if (alive.expired()) return;
              resizing_ = false;
              // The next WRITE says where the data continues (the old end of
              // the data means nothing after a resize).
              if (status.ok()) {
                have_next_ = false;
                written_end_ = 0;  // the stored size says it all now
              }
              done(status);
              ReplayHeld();
            });
      });
}

void Upload::OnFinish(const grpc::Status& status) {
  // The stream has ended either way; drop it (its own closure keeps it
  // alive until this returns).
  stream_.reset();
  if (commit_done_ != nullptr && status.ok()) {
    // Later streams continue the committed file.
    options_.flags &= ~(kTruncate | kExclusive);
    dirty_ = false;
    appended_ = 0;
    Done done = std::move(commit_done_);
    commit_done_ = nullptr;
    while (!blocked_.empty()) {  // all written before the half-close
      PopBlocked()(grpc::Status::OK);
    }
    done(grpc::Status::OK);
    ReplayHeld();
    return;
  }
  Fail(status.ok() ? grpc::Status(grpc::StatusCode::INTERNAL,
                                  "backend ended the upload before commit")
                   : status);
}

void Upload::ReplayHeld() {
  std::deque<Held> held = std::move(after_commit_);
  after_commit_.clear();
  const grpc::Status refused = std::move(refused_during_commit_);
  refused_during_commit_ = grpc::Status::OK;
  for (Held& h : held) {
    h.charge = backend::BudgetCharge();  // Write charges what it keeps
    switch (h.kind) {
      case Held::kCommit:
        Commit(std::move(h.done));
        break;
      case Held::kResize:
        Resize(h.offset, std::move(h.done));
        break;
      case Held::kSettled:
        WhenSettled(std::move(h.done));
        break;
      case Held::kWrite:
        Write(h.offset, h.data, std::move(h.done));
        break;
      case Held::kRefused:  // its WRITE was answered with the error
        Fail(refused);
        break;
    }
  }
}

void Upload::Fail(const grpc::Status& status) {
  if (!failed_.ok()) return;
  failed_ = status;
  stream_.reset();  // cancels a running stream: the backend aborts
  parked_.clear();
  parked_bytes_ = 0;
  std::deque<Done> waiting;
  while (!blocked_.empty()) waiting.push_back(PopBlocked());
  if (commit_done_ != nullptr) {
    waiting.push_back(std::move(commit_done_));
    commit_done_ = nullptr;
  }
  for (Held& h : after_commit_) {
    if (h.done != nullptr) waiting.push_back(std::move(h.done));
  }
  after_commit_.clear();
  for (Done& d : waiting) d(failed_);
}

void Upload::CheckTimeout(backend::Clock::time_point now) {
  if (!busy() || stream_ == nullptr) return;
  if (now - last_progress_ < backend_->call_timeout()) return;
  Fail(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                    "backend write timed out"));
}

}  // namespace sftpgate::server::sftp
