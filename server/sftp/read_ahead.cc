#include "server/sftp/read_ahead.h"

#include <algorithm>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace sftpgate::server::sftp {

ReadAhead::ReadAhead(std::shared_ptr<backend::BackendClient> backend,
                     std::string path, size_t buffer_limit)
    : backend_(std::move(backend)),
      path_(std::move(path)),
      buffer_limit_(buffer_limit) {}

ReadAhead::~ReadAhead() {
  backend_->budget().Refund(held_);  // dropping stream_ cancels it
}

void ReadAhead::Read(uint64_t offset, uint32_t length, Done done) {
  if (pending_.empty()) last_progress_ = backend::Clock::now();
  if (started_by_open_) {
    started_by_open_ = false;
    // Start()'s stream asked for one chunk only. The first READ at its
    // start goes on from the next byte not yet received, to end of file,
    // in chunks of its own size when larger (a 1 GiB download in chunks 8
    // times smaller costs 8 times the messages): one more call, and only
    // for a file longer than that chunk. What has arrived is kept.
    // (A first READ elsewhere restarts the stream there anyway.)
    const bool cut = stream_done_ && open_cut_;
    open_cut_ = false;
    if (offset == position_ && discard_ == 0 && stream_ != nullptr) {
      if (cut || (!stream_done_ && length > chunk_size_)) {
        chunk_size_ = std::max(chunk_size_, length);
        stream_->Cancel();
        ContinueStream();
      }
      // Still running with chunks no smaller than the READs: OnFinish
      // continues it if it ends where it was cut.
    } else if (cut && offset >= position_ &&
               offset - position_ <= buffered_ + chunk_size_) {
      // A first READ a little further on: the end of OPEN's chunk is not
      // the end of the file, so go on from there (the READ rides the
      // stream, as SkipTo allows). Farther ahead, Serve restarts there.
      ContinueStream();
    }
  }
  // The stream reached end of file before this READ came: the file may
  // have grown since, so ask again rather than answer EOF from memory. A
  // READ right at that end (a client's READ after a short one: every
  // small download) asks for the file's size, a unary Stat that costs
  // less than a Read call finding nothing; anywhere else, a new stream.
  if (stream_done_ && stream_status_.ok() && buffered_ == 0 &&
      !checking_growth_) {
    if (offset == position_) {
      CheckGrowth();
    } else {
      ResetStream();
    }
  }
  pending_.push_back({offset, length, std::move(done)});
  Serve();
}

void ReadAhead::CheckGrowth() {
  checking_growth_ = true;
  v1::StatRequest request;
  request.set_path(path_);
  request.set_follow_symlinks(true);  // as the Read call does
  backend_->Stat(
      std::move(request),
      [this, alive = std::weak_ptr<const bool>(alive_)](
          const grpc::Status& status, v1::StatResponse& response) {
        if (alive.expired()) return;
        checking_growth_ = false;
        // Grown, or no answer (the file is gone, the backend
        // failed, ...): a new stream answers, or fails, as any
        // READ's would.
        const v1::Attributes& attrs = response.attributes();
        if (!status.ok() || !attrs.has_size() || attrs.size() > position_) {
          ResetStream();
        }
        Serve();
      });
}

void ReadAhead::Start(uint32_t chunk_size, Ready ready) {
  ready_ = std::move(ready);
  started_by_open_ = true;
  // One chunk until a READ comes: a handle opened and never read holds at
  // most that (in our buffer and in gRPC's), however many are open.
  Restart(0, chunk_size, /*end=*/chunk_size);
}

void ReadAhead::TellReady(const grpc::Status& status) {
  if (ready_ == nullptr) return;
  Ready ready = std::move(ready_);
  ready_ = nullptr;
  ready(status);
}

void ReadAhead::Serve() {
  if (checking_growth_) return;  // CheckGrowth's answer serves them
  while (!pending_.empty()) {
    Pending& p = pending_.front();
    if (stream_ == nullptr || (p.offset != position_ && !SkipTo(p.offset))) {
      Restart(p.offset, p.length, /*end=*/0);
    }
    if (buffered_ < p.length && !stream_done_) break;  // wait for more
    Pending request = std::move(p);
    pending_.pop_front();
    if (buffered_ == 0) {
      if (stream_status_.ok()) {
        request.done(grpc::Status::OK, {}, /*eof=*/true);
        continue;
      }
      // Every READ waiting now waited on this stream: all get its error
      // (a hung backend must not cost each pipelined READ a timeout of its
      // own). The next READ tries a fresh stream.
      const grpc::Status error = stream_status_;
      std::deque<Pending> failed = std::move(pending_);
      pending_.clear();
      ResetStream();
      request.done(error, {}, false);
      for (Pending& p : failed) p.done(error, {}, false);
      return;
    }
    request.done(grpc::Status::OK,
                 Take(std::min<size_t>(request.length, buffered_)), false);
  }
  // Over the session's budget, fetch only what the waiting READ lacks.
  const bool starved = !pending_.empty() && buffered_ < pending_.front().length;
  if (stream_ != nullptr && !stream_done_ && buffered_ < buffer_limit_ &&
      (starved || !backend_->budget().exhausted())) {
    stream_->RequestNext();
  }
}

bool ReadAhead::SkipTo(uint64_t offset) {
  if (offset < position_) return false;
  const uint64_t gap = offset - position_;
  if (gap <= buffered_) {
    Consume(gap);
    return true;
  }
  // Not buffered yet but within the next chunk, which is on its way
  // anyway: let the stream run on and drop the gap as it arrives. Farther
  // ahead, a new call at `offset` costs less than the bytes between.
  if (stream_done_ || gap - buffered_ > chunk_size_) return false;
  discard_ += gap - buffered_;
  Consume(buffered_);
  position_ = offset;
  return true;
}

void ReadAhead::Consume(size_t n) {
  position_ += n;
  buffered_ -= n;
  while (n > 0) {
    const size_t in_front = chunks_.front().size() - front_used_;
    if (n < in_front) {
      front_used_ += n;
      return;
    }
    n -= in_front;
    Release(chunks_.front().size());
    chunks_.pop_front();
    front_used_ = 0;
  }
}

backend::DataChunk ReadAhead::Take(size_t n) {
  backend::DataChunk& front = chunks_.front();
  // The rest of the front chunk: hand the chunk itself over, unless most
  // of its buffer lies before those bytes (the reply's buffer is then at
  // most twice its size: a client reading the last byte of every chunk
  // must not make each reply hold a whole chunk).
  if (n == front.size() - front_used_ &&
      front.headroom() + front_used_ <= n + backend::DataChunk::kHeadroom) {
    backend::DataChunk taken = std::move(front);
    Release(taken.size());
    taken.RemovePrefix(front_used_);
    chunks_.pop_front();
    front_used_ = 0;
    position_ += n;
    buffered_ -= n;
    return taken;
  }
  absl::InlinedVector<absl::string_view, 4> pieces;
  size_t left = n, used = front_used_;
  for (auto it = chunks_.begin(); left > 0; ++it, used = 0) {
    const size_t take = std::min(left, it->size() - used);
    pieces.push_back(it->data().substr(used, take));
    left -= take;
  }
  backend::DataChunk joined = backend::DataChunk::Join(position_, pieces);
  Consume(n);
  return joined;
}

void ReadAhead::Release(size_t n) {
  held_ -= n;
  backend_->budget().Refund(n);
}

void ReadAhead::ResetStream() {
  stream_.reset();
  Release(held_);
  chunks_.clear();
  front_used_ = 0;
  buffered_ = 0;
  discard_ = 0;
  stream_done_ = false;
  stream_status_ = grpc::Status::OK;
}

void ReadAhead::Restart(uint64_t offset, uint32_t chunk_size, uint64_t end) {
  ResetStream();
  position_ = offset;
  chunk_size_ = chunk_size;
  stream_end_ = end;
  resumes_left_ = kMaxResumes;
  StartStream(offset);
}

void ReadAhead::StartStream(uint64_t offset) {
  last_progress_ = backend::Clock::now();
  v1::ReadRequest request;
  request.set_path(path_);
  request.set_offset(offset);
  // To end of file, or to stream_end_ (OPEN's first chunk).
  request.set_length(stream_end_ > offset ? stream_end_ - offset : 0);
  request.set_chunk_size(chunk_size_);
  stream_ = backend_->Read(
      std::move(request),
      {[this](backend::DataChunk chunk) { OnChunk(std::move(chunk)); },
       [this](const grpc::Status& status) { OnFinish(status); }});
}

void ReadAhead::OnChunk(backend::DataChunk chunk) {
  last_progress_ = backend::Clock::now();
  resumes_left_ = kMaxResumes;
  // position_ runs `discard_` bytes ahead of what has arrived.
  if (chunk.offset() + discard_ != position_ + buffered_) {
    // Chunks must be contiguous (contract); anything else would corrupt
    // the client's file.
    stream_->Cancel();
    OnFinish(grpc::Status(grpc::StatusCode::INTERNAL,
                          "backend sent a non-contiguous read chunk"));
    return;
  }
  if (discard_ > 0) {
    const size_t n = std::min<uint64_t>(discard_, chunk.size());
    chunk.RemovePrefix(n);
    discard_ -= n;
  }
  if (!chunk.empty()) {
    buffered_ += chunk.size();
    held_ += chunk.size();
    backend_->budget().Charge(chunk.size());
    chunks_.push_back(std::move(chunk));
  }
  TellReady(grpc::Status::OK);
  Serve();
}

void ReadAhead::OnFinish(const grpc::Status& status) {
  const bool broke = backend::BrokeOnBackendSide(status);
  // OPEN's stream delivered all it asked for (even if its replica went
  // away afterwards): the file may go on. Once a READ has come, go on at
  // once; before, wait for one (Read).
  if ((status.ok() || broke) && stream_end_ != 0 &&
      position_ + buffered_ + discard_ >= stream_end_) {
    if (!started_by_open_) {
      ContinueStream();
      Serve();
      return;
    }
    open_cut_ = true;
    stream_done_ = true;
    stream_status_ = grpc::Status::OK;
    TellReady(grpc::Status::OK);
    Serve();
    return;
  }
  if (broke && resumes_left_ > 0) {
    // The replica serving the stream went away (or the connection broke).
    // Reading changes nothing, so carry on from the next byte not yet
    // received, on whichever replica the channel picks now; what is
    // buffered stays. Bytes a skip jumped over are not asked for again.
    --resumes_left_;
    const uint64_t next = position_ + buffered_;
    discard_ = 0;
    StartStream(next);
    Serve();
    return;
  }
  stream_done_ = true;
  stream_status_ = status;
  TellReady(status);
  Serve();
}

void ReadAhead::ContinueStream() {
  stream_end_ = 0;
  stream_done_ = false;
  discard_ = 0;  // a skip's bytes not asked for again (as on resume)
  StartStream(position_ + buffered_);
}

void ReadAhead::CheckTimeout(backend::Clock::time_point now) {
  if ((pending_.empty() && ready_ == nullptr) || stream_ == nullptr ||
      stream_done_) {
    return;
  }
  if (now - last_progress_ < backend_->call_timeout()) return;
  stream_->Cancel();
  OnFinish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "backend read timed out"));
}

}  // namespace sftpgate::server::sftp
