// FakeBackend: an in-memory sftpgate.v1.Backend served by a real gRPC
// server on 127.0.0.1:<free port>, instrumented for the session tests
// (counts streams, sees cancelled uploads, can stall or fail on purpose).
//
// Paths with special prefixes force errors: "/denied..." answers
// PERMISSION_DENIED, "/invalid..." INVALID_ARGUMENT, and committing an
// upload to "/full..." RESOURCE_EXHAUSTED.
//
// Thread safety: all methods are thread-safe.

#ifndef SFTPGATE_TESTS_SFTP_FAKE_BACKEND_H_
#define SFTPGATE_TESTS_SFTP_FAKE_BACKEND_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "grpcpp/server.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::testing {

class FakeBackend final : public v1::Backend::Service {
 public:
  FakeBackend();

  // What Describe answers.
  void SetDescribe(const v1::DescribeResponse& describe);
  // Every call waits this long first (unless cancelled): a hung backend.
  std::atomic<int> stall_ms{0};
  // Read streams pause this long before each chunk.
  std::atomic<int> read_chunk_delay_ms{0};
  // Entries per ListDir batch.
  std::atomic<int> list_batch{50};
  // This many of the next Read and ListDir streams end with UNAVAILABLE
  // after `break_after_messages` messages, as when a replica dies
  // mid-stream (gRPC does not retry a stream once a message arrived).
  std::atomic<int> streams_to_break{0};
  std::atomic<int> break_after_messages{1};
  // While set, a stream about to break (above) first waits until it is
  // cleared, so that a test can change the store before the front end
  // resumes. `breaks_reached` counts the streams that got there.
  std::atomic<bool> hold_breaks{false};
  std::atomic<int> breaks_reached{0};
  // Bytes sent by Read streams (all files).
  std::atomic<int64_t> read_bytes_sent{0};

  // Test setup and inspection.
  void PutFile(const std::string& path, const std::string& data,
               int64_t mtime = 1700000000);
  void PutDir(const std::string& path);
  // Lists `name` in directory `dir` besides its real entries, as a
  // broken or hostile backend would (it may be "", ".", "..", hold '/' or
  // NUL).
  void AddListedName(const std::string& dir, const std::string& name);
  // Removes every file, directory and extra listed name: an empty "/".
  void Clear();
  // Removes `path` as another client would (no checks).
  void Erase(const std::string& path);
  std::optional<std::string> FileData(const std::string& path);
  std::optional<v1::Attributes> Attrs(const std::string& path);
  bool Exists(const std::string& path);

  std::atomic<int> unary_calls{0};
  std::atomic<int> read_streams{0};
  std::atomic<int> list_streams{0};
  std::atomic<int> write_streams{0};
  std::atomic<int> committed_uploads{0};
  std::atomic<int> aborted_uploads{0};
  // Chunks received by Write streams (all uploads).
  std::atomic<int> write_chunks{0};
  v1::SymlinkRequest last_symlink();
  v1::WriteHeader last_write_header();

  grpc::Status Describe(grpc::ServerContext*, const v1::DescribeRequest*,
                        v1::DescribeResponse*) override;
  grpc::Status Stat(grpc::ServerContext*, const v1::StatRequest*,
                    v1::StatResponse*) override;
  grpc::Status MakeDir(grpc::ServerContext*, const v1::MakeDirRequest*,
                       v1::MakeDirResponse*) override;
  grpc::Status RemoveDir(grpc::ServerContext*, const v1::RemoveDirRequest*,
                         v1::RemoveDirResponse*) override;
  grpc::Status Remove(grpc::ServerContext*, const v1::RemoveRequest*,
                      v1::RemoveResponse*) override;
  grpc::Status Rename(grpc::ServerContext*, const v1::RenameRequest*,
                      v1::RenameResponse*) override;
  grpc::Status SetStat(grpc::ServerContext*, const v1::SetStatRequest*,
                       v1::SetStatResponse*) override;
  grpc::Status Symlink(grpc::ServerContext*, const v1::SymlinkRequest*,
                       v1::SymlinkResponse*) override;
  grpc::Status ReadLink(grpc::ServerContext*, const v1::ReadLinkRequest*,
                        v1::ReadLinkResponse*) override;
  grpc::Status Link(grpc::ServerContext*, const v1::LinkRequest*,
                    v1::LinkResponse*) override;
  grpc::Status RealPath(grpc::ServerContext*, const v1::RealPathRequest*,
                        v1::RealPathResponse*) override;
  grpc::Status StatFs(grpc::ServerContext*, const v1::StatFsRequest*,
                      v1::StatFsResponse*) override;
  grpc::Status ListDir(grpc::ServerContext*, const v1::ListDirRequest*,
                       grpc::ServerWriter<v1::ListDirResponse>*) override;
  grpc::Status Read(grpc::ServerContext*, const v1::ReadRequest*,
                    grpc::ServerWriter<v1::ReadChunk>*) override;
  grpc::Status Write(grpc::ServerContext*,
                     grpc::ServerReader<v1::WriteRequest>*,
                     v1::WriteResponse*) override;

 private:
  struct Node {
    enum Kind { kFile, kDir, kLink } kind = kFile;
    std::string data;  // file contents, or link target
    uint32_t perm = 0644;
    int64_t mtime = 1700000000;
    uint32_t nlink = 1;
  };

  // The start of every call: counts it in `counter`, sleeps stall_ms
  // (CANCELLED if the call is cancelled first), then applies the
  // forced-error prefixes to `path` (none when null).
  grpc::Status Begin(std::atomic<int>& counter, grpc::ServerContext* context,
                     const std::string* path = nullptr);
  // Takes one of streams_to_break: whether this stream is to break.
  bool TakeBreak();
  // At a break: waits while hold_breaks is set; false if cancelled.
  bool HoldBreak(grpc::ServerContext* context);
  // The forced-error prefixes, or OK.
  static grpc::Status Forced(const std::string& path);
  v1::Attributes ToAttributes(const Node& node) const;
  // Follows a final symlink (one level is enough for the tests).
  std::string Follow(const std::string& path) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool IsDir(const std::string& path) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, Node> nodes_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, std::string> listed_names_ ABSL_GUARDED_BY(mu_);
  v1::DescribeResponse describe_ ABSL_GUARDED_BY(mu_);
  v1::SymlinkRequest last_symlink_ ABSL_GUARDED_BY(mu_);
  v1::WriteHeader last_write_header_ ABSL_GUARDED_BY(mu_);
};

// A gRPC server for a FakeBackend on 127.0.0.1 and a free port.
class FakeServer {
 public:
  explicit FakeServer(FakeBackend* backend);
  ~FakeServer();
  std::string target() const;
  int port() const { return port_; }
  // Stops serving (in-flight calls are cancelled).
  void Stop();
  // What grpc.health.v1 reports for the server as a whole.
  void SetServing(bool serving);

 private:
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// The parent of a normalized path ("/a/b" -> "/a", "/a" -> "/").
std::string ParentOf(const std::string& path);

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SFTP_FAKE_BACKEND_H_
