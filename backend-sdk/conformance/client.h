// A thin, synchronous client for sftpgate.v1.Backend used by the
// conformance checks. Every call carries the client's Session and a
// deadline, so a backend that hangs makes a call fail with
// DEADLINE_EXCEEDED instead of stalling the suite. Every call returns a
// Reply that describes the call for failure messages.
//
// Thread safety: a Client is immutable after construction and its methods
// may be called from several threads at once (the gRPC stub is
// thread-safe). An Upload belongs to one thread.

#ifndef SFTPGATE_TESTS_CONFORMANCE_CLIENT_H_
#define SFTPGATE_TESTS_CONFORMANCE_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "reply.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::conformance {

// POSIX file type bits, spelled out so the checks do not depend on the
// host's <sys/stat.h> (the contract fixes these values).
inline constexpr uint32_t kTypeMask = 0170000;
inline constexpr uint32_t kTypeFile = 0100000;
inline constexpr uint32_t kTypeDir = 0040000;
inline constexpr uint32_t kTypeLink = 0120000;

// Shorthands for WriteHeader flags.
inline constexpr uint32_t kCreate = v1::WriteHeader::FLAG_CREATE;
inline constexpr uint32_t kTruncate = v1::WriteHeader::FLAG_TRUNCATE;
inline constexpr uint32_t kExclusive = v1::WriteHeader::FLAG_EXCLUSIVE;
inline constexpr uint32_t kAppend = v1::WriteHeader::FLAG_APPEND;

// All batches of one ListDir stream.
struct Listing {
  std::vector<v1::DirEntry> entries;
  int batches = 0;
};

// A deadline shared by several clients, on top of each call's own
// timeout: the runner sets it to bound a whole check. Thread-safe.
class CallBudget {
 public:
  void set_deadline(absl::Time deadline) {
    nanos_.store(absl::ToUnixNanos(deadline), std::memory_order_relaxed);
  }
  absl::Time deadline() const {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_relaxed));
  }

 private:
  std::atomic<int64_t> nanos_{absl::ToUnixNanos(absl::InfiniteFuture())};
};

// One received ReadChunk, without its data.
struct ChunkSpan {
  uint64_t offset;
  uint64_t size;
};

// All chunks of one Read stream: the concatenated data and where each chunk
// claimed to start.
struct ReadResult {
  std::string data;
  std::vector<ChunkSpan> chunks;
};

struct ReadOptions {
  uint64_t offset = 0;
  uint64_t length = 0;  // 0: to end of file
  uint32_t chunk_size = 0;
  // When > 0, cancel the stream after this many chunks (the Reply is then
  // CANCELLED, carrying what arrived).
  int cancel_after_chunks = 0;
};

// One data chunk of an upload.
struct Chunk {
  uint64_t offset;
  std::string data;
};

// An open Write stream: the header has been sent; chunks follow. End it
// with exactly one of Commit() or Cancel().
class Upload {
 public:
  Upload(std::string call, std::unique_ptr<grpc::ClientContext> context,
         std::unique_ptr<v1::WriteResponse> response,
         std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> writer,
         bool header_sent);
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload();

  // Sends one chunk. Returns false once the stream is broken (the backend
  // already ended the call; Commit/Cancel report its status).
  bool Send(uint64_t offset, absl::string_view data);
  // Half-closes the stream and returns the committed size.
  Reply<uint64_t> Commit();
  // Cancels the call (ClientContext::TryCancel) and returns its status,
  // normally CANCELLED.
  Reply<uint64_t> Cancel();

 private:
  Reply<uint64_t> Finish();

  std::string call_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<v1::WriteResponse> response_;
  std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> writer_;
  bool broken_;
  bool finished_ = false;
};

class Client {
 public:
  // Every call gets the deadline now + `timeout`, or budget's deadline if
  // that comes first.
  Client(std::shared_ptr<v1::Backend::Stub> stub, v1::Session session,
         absl::Duration timeout, std::shared_ptr<const CallBudget> budget);

  const v1::Session& session() const { return session_; }
  // "Op(args)", prefixed with the session's root when it is not "/", as
  // every Reply names its call.
  std::string CallName(absl::string_view op, absl::string_view args) const;

  Reply<v1::DescribeResponse> Describe() const;
  Reply<v1::Attributes> Stat(absl::string_view path, bool follow) const;
  // Permission bits are sent only when mode >= 0.
  Reply<Empty> MakeDir(absl::string_view path, int mode = -1) const;
  Reply<Empty> RemoveDir(absl::string_view path) const;
  Reply<Empty> Remove(absl::string_view path) const;
  Reply<Empty> Rename(absl::string_view from, absl::string_view to,
                      bool overwrite) const;
  Reply<Empty> SetStat(absl::string_view path, const v1::Attributes& attributes,
                       bool follow) const;
  Reply<Empty> Symlink(absl::string_view link_path,
                       absl::string_view target) const;
  Reply<std::string> ReadLink(absl::string_view path) const;
  Reply<Empty> Link(absl::string_view existing_path,
                    absl::string_view new_path) const;
  Reply<std::string> RealPath(absl::string_view path) const;
  Reply<v1::StatFsResponse> StatFs(absl::string_view path) const;
  Reply<v1::UsageResponse> Usage() const;
  // Hash of `path`'s range [offset, offset + length) (length 0: to end of
  // file), one digest per `block_size` bytes (0: one digest); the digests.
  Reply<std::vector<std::string>> Hash(absl::string_view path,
                                       v1::HashAlgorithm algorithm,
                                       uint64_t offset, uint64_t length,
                                       uint32_t block_size) const;
  // `start_after`: ListDirRequest.start_after (empty: from the start).
  Reply<Listing> ListDir(absl::string_view path,
                         absl::string_view start_after = "") const;
  Reply<ReadResult> Read(absl::string_view path,
                         const ReadOptions& options) const;

  // Opens a Write stream and sends `header`.
  std::unique_ptr<Upload> StartUpload(const v1::WriteHeader& header) const;
  // A whole upload: header, `chunks` in order, commit.
  Reply<uint64_t> Write(const v1::WriteHeader& header,
                        const std::vector<Chunk>& chunks) const;

 private:
  std::unique_ptr<grpc::ClientContext> NewContext() const;
  // Sends `request` (with the session filled in) through `method`.
  template <typename Request, typename Response>
  absl::StatusOr<Response> Unary(
      grpc::Status (v1::Backend::Stub::*method)(grpc::ClientContext*,
                                                const Request&, Response*),
      Request request) const;

  std::shared_ptr<v1::Backend::Stub> stub_;
  v1::Session session_;
  absl::Duration timeout_;
  std::shared_ptr<const CallBudget> budget_;
};

// A WriteHeader for `path` with `flags` (and permission bits when mode >= 0).
v1::WriteHeader MakeHeader(absl::string_view path, uint32_t flags,
                           uint64_t offset = 0, int mode = -1);

// Splits `data` into chunks of at most `chunk_size` bytes starting at
// `offset`.
std::vector<Chunk> SplitChunks(absl::string_view data, uint64_t offset,
                               size_t chunk_size);

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_CLIENT_H_
