#include "server/sftp/dir_listing.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "server/common/log.h"

namespace sftpgate::server::sftp {
namespace {

// What a buffered entry costs: a long name is about twice the name plus
// fixed columns, as are the entry and its attributes in memory.
size_t EntryCost(const v1::DirEntry& e) { return 2 * e.name().size() + 128; }

}  // namespace

DirListing::DirListing(std::shared_ptr<backend::BackendClient> backend,
                       std::string path, std::string session_id,
                       size_t buffer_limit)
    : backend_(std::move(backend)),
      path_(std::move(path)),
      buffer_limit_(buffer_limit),
      session_id_(std::move(session_id)) {
  StartStream();
}

bool DirListing::IsClientSafeName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string("/\0", 2)) == std::string::npos;
}

void DirListing::StartStream() {
  last_progress_ = backend::Clock::now();
  v1::ListDirRequest request;
  request.set_path(path_);
  if (resumed_) request.set_start_after(last_name_);
  stream_ = backend_->ListDir(
      std::move(request),
      {[this](v1::ListDirResponse batch) { OnBatch(std::move(batch)); },
       [this](const grpc::Status& status) { OnFinish(status); }});
}

DirListing::~DirListing() {
  // Dropping stream_ cancels it.
  backend_->budget().Refund(charged_);
}

void DirListing::WaitStarted(StartedDone done) {
  if (started_) {
    done(status_);
    return;
  }
  last_progress_ = backend::Clock::now();
  started_done_ = std::move(done);
}

void DirListing::Next(size_t max_entries, size_t max_bytes, NextDone done) {
  if (waiting_.empty()) last_progress_ = backend::Clock::now();
  waiting_.push_back({max_entries, max_bytes, std::move(done)});
  Serve();
}

void DirListing::Serve() {
  if (!started_ && (finished_ || !entries_.empty())) {
    started_ = true;
    if (started_done_ != nullptr) {
      StartedDone done = std::move(started_done_);
      started_done_ = nullptr;
      done(entries_.empty() ? status_ : grpc::Status::OK);
    }
  }
  while (!waiting_.empty() && (!entries_.empty() || finished_)) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    if (entries_.empty()) {
      w.done(status_, {}, status_.ok());
      continue;
    }
    std::vector<v1::DirEntry> out;
    size_t bytes = 0;
    while (!entries_.empty() && out.size() < w.max_entries) {
      const size_t cost = EntryCost(entries_.front());
      if (!out.empty() && bytes + cost > w.max_bytes) break;
      bytes += cost;
      out.push_back(std::move(entries_.front()));
      entries_.pop_front();
      backend_->budget().Refund(cost);
      charged_ -= cost;
    }
    w.done(grpc::Status::OK, std::move(out), false);
  }
  if (!finished_ && entries_.size() < buffer_limit_ &&
      (entries_.empty() || !backend_->budget().exhausted())) {
    stream_->RequestNext();
  }
}

void DirListing::OnBatch(v1::ListDirResponse batch) {
  last_progress_ = backend::Clock::now();
  const size_t before = entries_.size();
  for (v1::DirEntry& e : *batch.mutable_entries()) {
    // A resumed stream starts after last_name_; a backend that ignores
    // start_after lists from the start again: drop what we have.
    if (resumed_ && e.name() <= last_name_) continue;
    if (!IsClientSafeName(e.name())) {
      if (!warned_bad_name_) {
        warned_bad_name_ = true;
        LogEvent(LogLevel::kWarning, "backend_bad_name",
                 {{"session", session_id_},
                  {"path", path_},
                  {"name", absl::CHexEscape(e.name())}});
      }
      continue;
    }
    resumes_left_ = kMaxResumes;
    last_name_ = e.name();
    entries_.push_back(std::move(e));
  }
  size_t cost = 0;
  for (size_t i = before; i < entries_.size(); ++i) {
    cost += EntryCost(entries_[i]);
  }
  backend_->budget().Charge(cost);
  charged_ += cost;
  Serve();
}

void DirListing::OnFinish(const grpc::Status& status) {
  if (backend::BrokeOnBackendSide(status) && resumes_left_ > 0) {
    // The replica listing the directory went away. gRPC retries a stream
    // only until its first batch; past that, list again after the last
    // name received (names come in ascending order, by contract).
    --resumes_left_;
    resumed_ = !last_name_.empty();
    StartStream();
    Serve();
    return;
  }
  finished_ = true;
  status_ = status;
  Serve();
}

void DirListing::CheckTimeout(backend::Clock::time_point now) {
  if (idle() || finished_) return;
  if (now - last_progress_ < backend_->call_timeout()) return;
  stream_->Cancel();
  OnFinish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "backend listing timed out"));
}

}  // namespace sftpgate::server::sftp
