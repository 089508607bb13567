// ReadAhead: serves the READs of one file handle from a backend Read
// stream that runs ahead of the client.
//
// READs are served in arrival order from buffered bytes; a seek, or a READ
// more than a chunk past the buffer, restarts the stream at its offset; a
// stream whose replica died is resumed at the next byte it owed. The whole
// algorithm: docs/architecture.md, "Downloads".
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_SFTP_READ_AHEAD_H_
#define SFTPGATE_SERVER_SFTP_READ_AHEAD_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_client.h"

namespace sftpgate::server::sftp {

class ReadAhead {
 public:
  // The answer to one READ: on OK either `data` or `eof`; otherwise the
  // error. When the READ takes the rest of a chunk the stream delivered
  // (the common case: READ size == chunk size), `data` is that chunk, its
  // buffer handed over with the room for a reply's header in front of it;
  // otherwise a new one joins the pieces (one copy).
  using Done = absl::AnyInvocable<void(const grpc::Status& status,
                                       backend::DataChunk data, bool eof)>;

  // Whether the file could be opened for reading: OK, or the error.
  using Ready = absl::AnyInvocable<void(const grpc::Status& status)>;

  ReadAhead(std::shared_ptr<backend::BackendClient> backend, std::string path,
            size_t buffer_limit);
  ~ReadAhead();

  // Starts a stream for the first `chunk_size` bytes before any READ
  // comes (OPEN for reading): its first answer says whether the file can
  // be read, so OPEN needs no Stat of its own, and a small file arrives
  // whole. The first READ continues it to end of file. `ready` runs once: OK on
  // the first chunk or the clean end of an empty file, otherwise the
  // stream's error (NOT_FOUND, FAILED_PRECONDITION for a directory, ...,
  // DEADLINE_EXCEEDED after the call timeout; see CheckTimeout). It runs
  // from inside the ReadAhead: it must not destroy it. Call once, first.
  // If the first READ is larger than `chunk_size`, the stream goes on in
  // chunks of its size. Until then the handle holds at most one chunk.
  void Start(uint32_t chunk_size, Ready ready);

  // Queues a READ of up to `length` (> 0) bytes at `offset`. `done` runs
  // exactly once, later or from inside this call, unless the ReadAhead is
  // destroyed first.
  void Read(uint64_t offset, uint32_t length, Done done);

  // Fails the waiting READ or Start (and drops the stream) when it has
  // waited for the backend longer than the call timeout.
  void CheckTimeout(backend::Clock::time_point now);

  bool idle() const { return pending_.empty(); }

 private:
  struct Pending {
    uint64_t offset;
    uint32_t length;
    Done done;
  };

  void Serve();
  // Whether the file grew past position_ since the stream ended there: a
  // Stat; the waiting READs are served when it answers (from a new stream
  // if it grew).
  void CheckGrowth();
  // Moves the stream's position forward to `offset` if that lies within
  // the buffer or at most one chunk past it (dropping the bytes between);
  // false if the stream must restart there instead.
  bool SkipTo(uint64_t offset);
  // Drops the stream and its buffer; starts a new one at `offset` that
  // runs to end of file, or (end != 0) stops before offset `end`.
  void Restart(uint64_t offset, uint32_t chunk_size, uint64_t end);
  // Starts the Read call at `offset` (buffer and position untouched).
  void StartStream(uint64_t offset);
  void ResetStream();
  // Starts the stream again, to end of file, at the next byte not yet
  // received (after Start's stream ended where it was cut).
  void ContinueStream();
  void Consume(size_t n);
  // Takes the first `n` (> 0, <= buffered_) bytes out of the buffer, as
  // Consume(n) does, and returns them: the front chunk itself when they
  // are the rest of it (and no less than half of its buffer).
  backend::DataChunk Take(size_t n);
  // chunks_ dropped `n` bytes: refund them to the session's budget.
  void Release(size_t n);
  void OnChunk(backend::DataChunk chunk);
  void OnFinish(const grpc::Status& status);
  // Runs Start's `ready` with `status`, if it has not run yet.
  void TellReady(const grpc::Status& status);

  std::shared_ptr<backend::BackendClient> backend_;
  const std::string path_;
  const size_t buffer_limit_;

  std::deque<Pending> pending_;
  Ready ready_;                   // Start's, until the stream first answers
  bool started_by_open_ = false;  // until the first READ (see Read)
  // Where the current stream stops (0: end of file); set for Start's.
  uint64_t stream_end_ = 0;
  // Start's stream ended where it was cut, not at end of file.
  bool open_cut_ = false;
  std::shared_ptr<backend::IncomingStream<backend::DataChunk>> stream_;
  // File offset of the first buffered byte (= where the stream stands).
  uint64_t position_ = 0;
  std::deque<backend::DataChunk> chunks_;
  size_t front_used_ = 0;  // bytes of chunks_.front() already consumed
  size_t buffered_ = 0;
  // Data bytes of the chunks in chunks_ as they arrived, front_used_
  // included (charged to the session's budget).
  size_t held_ = 0;
  // Bytes still to arrive that a forward skip jumped over.
  uint64_t discard_ = 0;
  bool stream_done_ = false;
  bool checking_growth_ = false;  // CheckGrowth's Stat is on its way
  // Its answer may come after this ReadAhead is gone (unary calls finish
  // on their own): it holds a weak_ptr to this.
  const std::shared_ptr<const bool> alive_ = std::make_shared<const bool>();
  grpc::Status stream_status_;
  // Chunk size the current stream asked for (kept when it is resumed).
  uint32_t chunk_size_ = 0;
  // Resumes after UNAVAILABLE still allowed before a chunk arrives: two
  // give round robin a live replica when one is down, without looping
  // on a backend that is down altogether.
  static constexpr int kMaxResumes = 2;
  int resumes_left_ = kMaxResumes;
  backend::Clock::time_point last_progress_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_READ_AHEAD_H_
