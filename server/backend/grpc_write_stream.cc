#include "server/backend/grpc_write_stream.h"

#include <deque>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/client_callback.h"
#include "server/backend/backend_metrics.h"
#include "server/backend/write_request_encoding.h"

namespace sftpgate::server::backend {

// What the loop side and the reactor share. Whichever side finds the call
// idle (no write in progress) starts the next write.
struct GrpcWriteStream::Pipe {
  // An encoded WriteRequest and the payload bytes it carries.
  struct Message {
    grpc::ByteBuffer bytes;
    size_t payload = 0;
  };

  absl::Mutex mu;
  std::deque<Message> queue ABSL_GUARDED_BY(mu);
  bool writing ABSL_GUARDED_BY(mu) = false;
  // Send the commit once the queue is empty.
  bool closing ABSL_GUARDED_BY(mu) = false;
  // Nothing more is written: the commit was started, or the call broke or
  // was cancelled.
  bool ended ABSL_GUARDED_BY(mu) = false;
  // Payload bytes queued or being written. Changed under `mu`; read
  // without it. Sequentially consistent with want_progress: the loop sets
  // want_progress and then reads queued_bytes, the reactor lowers
  // queued_bytes and then reads want_progress, so one of them always sees
  // the other (no lost wake-up).
  std::atomic<size_t> queued_bytes{0};
  std::atomic<bool> want_progress{false};
  // The session's budget, charged with queued_bytes.
  std::shared_ptr<TransferBudget> budget;

  void Add(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    queued_bytes += n;
    budget->Charge(n);
  }
  void Remove(size_t n) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    queued_bytes -= n;
    budget->Refund(n);
  }
  // Drops the queued messages (not the one being written: its
  // OnWriteDone still comes).
  void Clear() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (const Message& m : queue) Remove(m.payload);
    queue.clear();
  }
};

class GrpcWriteStream::Reactor final
    : public grpc::ClientWriteReactor<grpc::ByteBuffer> {
 public:
  Reactor(std::shared_ptr<grpc::ClientContext> context,
          std::shared_ptr<LoopPoster> poster,
          std::weak_ptr<GrpcWriteStream> stream, std::shared_ptr<Pipe> pipe)
      : context_(std::move(context)),
        poster_(std::move(poster)),
        stream_(std::move(stream)),
        pipe_(std::move(pipe)) {}

  v1::WriteResponse* response() { return &response_; }

  // Starts the next write when the call is idle and has something to
  // write. Call without pipe_->mu held (gRPC may run OnWriteDone inline),
  // from the loop (while it holds the call) or from a reaction.
  void Kick() {
    bool last = false;
    {
      absl::MutexLock lock(&pipe_->mu);
      if (!TakeNext(&last)) return;
    }
    Begin(last);
  }

  void OnWriteDone(bool ok) override {
    bool start = false, last = false;
    {
      absl::MutexLock lock(&pipe_->mu);
      pipe_->Remove(writing_bytes_);
      writing_bytes_ = 0;
      pipe_->writing = false;
      if (!ok) {
        // The call failed; OnDone brings the status.
        pipe_->ended = true;
        pipe_->Clear();
      } else {
        start = TakeNext(&last);
      }
    }
    if (start) Begin(last);
    if (!ok || pipe_->want_progress.load()) {
      poster_->Post([stream = stream_, ok] {
        if (auto s = stream.lock()) s->OnProgress(ok);
      });
    }
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
  // Moves the next message into current_. False when there is none or a
  // write is in progress.
  bool TakeNext(bool* last) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pipe_->mu) {
    if (pipe_->writing || pipe_->ended) return false;
    if (!pipe_->queue.empty()) {
      current_ = std::move(pipe_->queue.front().bytes);
      writing_bytes_ = pipe_->queue.front().payload;
      pipe_->queue.pop_front();
      *last = false;
    } else if (pipe_->closing) {
      // Only an explicit commit message publishes the upload: at the end
      // of a request stream a backend cannot tell a cancel from a
      // half-close.
      current_ = EncodeWriteCommit();
      pipe_->ended = true;
      *last = true;
    } else {
      return false;
    }
    pipe_->writing = true;
    return true;
  }

  // gRPC takes its own reference to current_'s slices before StartWrite
  // returns; the next TakeNext (after this write is done) may then replace
  // it.
  void Begin(bool last) {
    if (last) {
      StartWriteLast(&current_, grpc::WriteOptions());
    } else {
      StartWrite(&current_);
    }
  }

  std::shared_ptr<grpc::ClientContext> context_;
  std::shared_ptr<LoopPoster> poster_;
  std::weak_ptr<GrpcWriteStream> stream_;
  std::shared_ptr<Pipe> pipe_;
  v1::WriteResponse response_;
  grpc::ByteBuffer current_;  // replaced only under pipe_->mu
  size_t writing_bytes_ = 0;  // guarded by pipe_->mu
  const Clock::time_point start_ = Clock::now();
};

GrpcWriteStream::GrpcWriteStream(std::shared_ptr<LoopPoster> poster,
                                 std::shared_ptr<TransferBudget> budget,
                                 Handler handler)
    : poster_(std::move(poster)),
      handler_(std::move(handler)),
      context_(std::make_shared<grpc::ClientContext>()),
      pipe_(std::make_shared<Pipe>()) {
  pipe_->budget = std::move(budget);
}

GrpcWriteStream::~GrpcWriteStream() { Cancel(); }

std::shared_ptr<GrpcWriteStream> GrpcWriteStream::Start(
    const BackendStub& stub, std::shared_ptr<LoopPoster> poster,
    std::shared_ptr<TransferBudget> budget, const v1::Session& session,
    v1::WriteHeader header, Handler handler) {
  std::shared_ptr<GrpcWriteStream> stream(
      new GrpcWriteStream(poster, std::move(budget), std::move(handler)));
  // The call's headers go out with the first message, in one write.
  stream->context_->set_initial_metadata_corked(true);
  auto* reactor =
      new Reactor(stream->context_, std::move(poster), stream, stream->pipe_);
  stream->reactor_ = reactor;
  grpc::internal::ClientCallbackWriterFactory<grpc::ByteBuffer>::Create(
      stub.channel().get(), stub.write_method(), stream->context_.get(),
      reactor->response(), reactor);
  v1::WriteRequest first;
  *first.mutable_session() = session;
  *first.mutable_header() = std::move(header);
  {
    absl::MutexLock lock(&stream->pipe_->mu);
    stream->pipe_->queue.push_back({EncodeWriteRequest(first), 0});
  }
  reactor->AddHold();
  reactor->StartCall();
  reactor->Kick();
  return stream;
}

void GrpcWriteStream::Write(uint64_t offset, absl::string_view data) {
  if (closing_ || broken_ || cancelled_ || reactor_ == nullptr) return;
  // Encoded (the payload's one copy) before taking the lock the reactor's
  // threads share.
  grpc::ByteBuffer bytes = EncodeWriteChunk(offset, data);
  {
    absl::MutexLock lock(&pipe_->mu);
    if (pipe_->ended) return;
    pipe_->Add(data.size());
    pipe_->queue.push_back({std::move(bytes), data.size()});
  }
  reactor_->Kick();
}

void GrpcWriteStream::Close() {
  if (closing_) return;
  closing_ = true;
  {
    absl::MutexLock lock(&pipe_->mu);
    pipe_->closing = true;
  }
  if (reactor_ != nullptr) {
    reactor_->Kick();
    // The loop starts nothing more: the reactor sends the rest and the
    // commit from its own reactions.
    ReleaseReactor();
  }
}

void GrpcWriteStream::Cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  {
    absl::MutexLock lock(&pipe_->mu);
    pipe_->ended = true;
    pipe_->Clear();
  }
  if (!finished_) context_->TryCancel();
  ReleaseReactor();
}

void GrpcWriteStream::set_want_progress(bool want) {
  pipe_->want_progress.store(want);
}

size_t GrpcWriteStream::queued_bytes() const {
  return pipe_->queued_bytes.load();
}

void GrpcWriteStream::OnProgress(bool ok) {
  if (!ok && !broken_) {
    broken_ = true;
    ReleaseReactor();
  }
  if (!cancelled_ && handler_.on_progress) handler_.on_progress();
}

void GrpcWriteStream::OnFinished(const grpc::Status& status,
                                 uint64_t committed_size) {
  finished_ = true;
  {
    absl::MutexLock lock(&pipe_->mu);
    pipe_->ended = true;
    pipe_->Clear();
  }
  if (!cancelled_) handler_.on_finish(status, committed_size);
}

void GrpcWriteStream::ReleaseReactor() {
  if (reactor_ != nullptr) {
    reactor_->RemoveHold();
    reactor_ = nullptr;
  }
}

}  // namespace sftpgate::server::backend
