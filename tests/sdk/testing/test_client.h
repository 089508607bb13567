// TestClient: the v1 Backend service seen from a test, one method per RPC,
// with results as absl::Status / StatusOr (codes as the backend sent them).
// Works with any backend reachable over gRPC: in-process (local_server.h)
// or another process (backend_process.h).
//
//   TestClient client(MakeChannel(target), SessionBuilder().Build());
//   ASSERT_TRUE(client.WriteFile("/a", "hello").ok());
//   EXPECT_EQ(*client.ReadFile("/a"), "hello");
//
// Every call carries a deadline (default 60 s) so that a hung backend fails
// the test instead of hanging it.
//
// Thread safety: a TestClient may be used from several threads at once
// (gRPC stubs are thread-safe); a WriteStream from one thread at a time.

#ifndef SFTPGATE_TESTS_SDK_TESTING_TEST_CLIENT_H_
#define SFTPGATE_TESTS_SDK_TESTING_TEST_CLIENT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "sftpgate/backend.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::testing {

// One Write call in progress: the header is sent on construction; chunks
// with Send(); the call ends with Finish() (a commit message, then
// half-close) or Cancel() (abort). Destroying an unfinished stream cancels it.
class WriteStream {
 public:
  WriteStream(v1::Backend::Stub* stub, const Session& session,
              const WriteHeader& header, absl::Duration deadline);
  ~WriteStream();
  WriteStream(const WriteStream&) = delete;
  WriteStream& operator=(const WriteStream&) = delete;

  // Sends one chunk. False when the stream is broken (the backend already
  // ended the call); Finish() then gives its status.
  bool Send(uint64_t offset, absl::string_view data);
  // Sends the commit message, half-closes and returns the committed size
  // or the backend's error.
  absl::StatusOr<uint64_t> Finish();
  // Cancels the call (the upload must be discarded) and returns the final
  // status the client sees (CANCELLED, normally).
  absl::Status Cancel();

 private:
  grpc::ClientContext context_;
  v1::WriteResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> writer_;
  bool finished_ = false;
};

// Options for TestClient::WriteFile.
struct WriteOptions {
  uint32_t flags =
      v1::WriteHeader::FLAG_CREATE | v1::WriteHeader::FLAG_TRUNCATE;
  // Offset of the first byte written.
  uint64_t offset = 0;
  // Payload bytes per WriteChunk.
  size_t chunk_size = 64 * 1024;
  // Permission bits for a created file (unset: the backend's default).
  std::optional<uint32_t> permissions;
};

// A finished listing: the entries and how many messages carried them.
struct Listing {
  std::vector<DirEntry> entries;
  int messages = 0;
};

class TestClient {
 public:
  TestClient(std::shared_ptr<grpc::Channel> channel, Session session,
             absl::Duration deadline = absl::Seconds(60));

  // A client on the same channel acting for another session.
  TestClient WithSession(Session session) const;

  const Session& session() const { return session_; }
  v1::Backend::Stub* stub() const { return stub_.get(); }
  // Applies this client's deadline to `context` (for raw stub calls).
  void SetDeadline(grpc::ClientContext* context) const;

  absl::StatusOr<v1::DescribeResponse> Describe();
  absl::StatusOr<Attributes> Stat(const std::string& path,
                                  bool follow_symlinks = true);
  absl::StatusOr<Attributes> Lstat(const std::string& path) {
    return Stat(path, false);
  }
  absl::Status MakeDir(const std::string& path,
                       std::optional<uint32_t> permissions = std::nullopt);
  absl::Status RemoveDir(const std::string& path);
  absl::Status Remove(const std::string& path);
  absl::Status Rename(const std::string& from, const std::string& to,
                      bool overwrite = false);
  absl::Status SetStat(const std::string& path, const Attributes& attributes,
                       bool follow_symlinks = true);
  absl::Status Symlink(const std::string& link_path, const std::string& target);
  absl::StatusOr<std::string> ReadLink(const std::string& path);
  absl::Status Link(const std::string& existing_path,
                    const std::string& new_path);
  absl::StatusOr<std::string> RealPath(const std::string& path);
  absl::StatusOr<v1::StatFsResponse> StatFs(const std::string& path);

  // With `start_after`, only the names after it (a resumed listing).
  absl::StatusOr<Listing> ListDir(const std::string& path,
                                  const std::string& start_after = "");
  // The entry names of `path`, sorted.
  absl::StatusOr<std::vector<std::string>> ListNames(const std::string& path);

  // Every chunk of one Read call, as received.
  absl::StatusOr<std::vector<v1::ReadChunk>> ReadChunks(
      const std::string& path, uint64_t offset = 0, uint64_t length = 0,
      uint32_t chunk_size = 0);
  // The bytes of one Read call, concatenated. Fails with INTERNAL if the
  // chunks are not contiguous from `offset`.
  absl::StatusOr<std::string> ReadFile(const std::string& path,
                                       uint64_t offset = 0, uint64_t length = 0,
                                       uint32_t chunk_size = 0);

  // Starts a Write call with `header` (see WriteStream).
  std::unique_ptr<WriteStream> OpenWrite(const WriteHeader& header);
  // Uploads `data` in sequential chunks and commits; returns the committed
  // size.
  absl::StatusOr<uint64_t> WriteFile(const std::string& path,
                                     absl::string_view data,
                                     const WriteOptions& options = {});

 private:
  // One unary call: fills in the session, applies the deadline, converts
  // the status.
  template <typename Request, typename Response>
  absl::Status Unary(grpc::Status (v1::Backend::Stub::*method)(
                         grpc::ClientContext*, const Request&, Response*),
                     Request& request, Response* response);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Backend::Stub> stub_;
  Session session_;
  absl::Duration deadline_;
};

// A WriteHeader for `path` with `flags`.
WriteHeader MakeWriteHeader(const std::string& path,
                            uint32_t flags = v1::WriteHeader::FLAG_CREATE |
                                             v1::WriteHeader::FLAG_TRUNCATE);

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_TESTING_TEST_CLIENT_H_
