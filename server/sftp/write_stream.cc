#include "server/sftp/write_stream.h"

#include <utility>

#include "grpcpp/support/client_callback.h"
#include "server/sftp/sftp_metrics.h"

namespace sftpgate::server::sftp {

class WriteStream::Reactor final
    : public grpc::ClientWriteReactor<v1::WriteRequest> {
 public:
  Reactor(std::shared_ptr<grpc::ClientContext> context,
          std::shared_ptr<LoopPoster> poster, std::weak_ptr<WriteStream> stream)
      : context_(std::move(context)),
        poster_(std::move(poster)),
        stream_(std::move(stream)) {}

  v1::WriteResponse* response() { return &response_; }

  // Writes `message`, which the reactor keeps until gRPC is done with it
  // (even if the loop side is destroyed meanwhile).
  void Write(v1::WriteRequest message) {
    current_ = std::move(message);
    StartWrite(&current_);
  }

  // Writes `message` and half-closes the stream after it.
  void WriteLast(v1::WriteRequest message) {
    current_ = std::move(message);
    StartWriteLast(&current_, grpc::WriteOptions());
  }

  void OnWriteDone(bool ok) override {
    poster_->Post([stream = stream_, ok] {
      if (auto s = stream.lock()) s->OnWriteDone(ok);
    });
  }

  void OnDone(const grpc::Status& status) override {
    BackendCallHistogram<v1::WriteRequest>()->Observe(
        std::chrono::duration<double>(Clock::now() - start_).count());
    poster_->Post(
        [stream = stream_, status, size = response_.committed_size()] {
          if (auto s = stream.lock()) s->OnFinished(status, size);
        });
    delete this;
  }

 private:
  std::shared_ptr<grpc::ClientContext> context_;
  std::shared_ptr<LoopPoster> poster_;
  std::weak_ptr<WriteStream> stream_;
  v1::WriteResponse response_;
  v1::WriteRequest current_;
  const Clock::time_point start_ = Clock::now();
};

WriteStream::WriteStream(std::shared_ptr<LoopPoster> poster, Handler handler)
    : poster_(std::move(poster)),
      handler_(std::move(handler)),
      context_(std::make_shared<grpc::ClientContext>()) {}

std::shared_ptr<WriteStream> WriteStream::Start(const BackendContext& backend,
                                                v1::WriteHeader header,
                                                Handler handler) {
  std::shared_ptr<WriteStream> stream(
      new WriteStream(backend.poster, std::move(handler)));
  auto* reactor = new Reactor(stream->context_, backend.poster, stream);
  stream->reactor_ = reactor;
  backend.async()->Write(stream->context_.get(), reactor->response(), reactor);
  v1::WriteRequest first;
  *first.mutable_session() = backend.session;
  *first.mutable_header() = std::move(header);
  stream->queue_.push_back(std::move(first));
  reactor->AddHold();
  reactor->StartCall();
  stream->Pump();
  return stream;
}

void WriteStream::Write(v1::WriteRequest message) {
  if (closing_ || broken_ || cancelled_) return;
  queued_bytes_ += message.chunk().data().size();
  queue_.push_back(std::move(message));
  Pump();
}

void WriteStream::Close() {
  closing_ = true;
  Pump();
}

void WriteStream::Cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (!finished_) context_->TryCancel();
  ReleaseReactor();
}

void WriteStream::Pump() {
  if (reactor_ == nullptr || writing_ || broken_) return;
  if (!queue_.empty()) {
    writing_ = true;
    writing_bytes_ = queue_.front().chunk().data().size();
    reactor_->Write(std::move(queue_.front()));
    queue_.pop_front();
  } else if (closing_) {
    // Only an explicit commit message publishes the upload: at the end of
    // a request stream a backend cannot tell a cancel from a half-close.
    v1::WriteRequest commit;
    commit.mutable_commit();
    reactor_->WriteLast(std::move(commit));
    ReleaseReactor();
  }
}

void WriteStream::OnWriteDone(bool ok) {
  writing_ = false;
  queued_bytes_ -= writing_bytes_;
  writing_bytes_ = 0;
  if (!ok) {
    // The call failed; OnDone brings the status. Nothing more is written.
    broken_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    ReleaseReactor();
  } else {
    Pump();
  }
  if (!cancelled_ && handler_.on_progress) handler_.on_progress();
}

void WriteStream::OnFinished(const grpc::Status& status,
                             uint64_t committed_size) {
  finished_ = true;
  queue_.clear();
  queued_bytes_ = 0;
  writing_bytes_ = 0;
  if (!cancelled_) handler_.on_finish(status, committed_size);
}

void WriteStream::ReleaseReactor() {
  if (reactor_ != nullptr) {
    reactor_->RemoveHold();
    reactor_ = nullptr;
  }
}

}  // namespace sftpgate::server::sftp
