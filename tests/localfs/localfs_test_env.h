// Shared pieces of the localfs backend tests: a scratch directory, direct
// disk helpers (to set up and check what the backend did, bypassing it),
// tree snapshots (to prove nothing outside a root changed) and a fixture
// serving a LocalFsBackend over a real gRPC channel.
//
// Thread safety: the free functions are thread-safe; TempDir and the
// fixture belong to one test thread.

#ifndef SFTPGATE_TESTS_LOCALFS_LOCALFS_TEST_ENV_H_
#define SFTPGATE_TESTS_LOCALFS_LOCALFS_TEST_ENV_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "localfs_backend.h"
#include "sftpgate/server.h"
#include "tests/sdk/testing/session_builder.h"
#include "tests/sdk/testing/test_client.h"

namespace sftpgate::localfs::testing {

using ::sftpgate::testing::MakeWriteHeader;
using ::sftpgate::testing::SessionBuilder;
using ::sftpgate::testing::TestClient;
using ::sftpgate::testing::WriteOptions;

// A new empty directory under $TMPDIR (default /tmp), removed with all its
// contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + rel.
  std::string Sub(absl::string_view rel) const;

 private:
  std::string path_;
};

// Direct disk access for set-up and checks; failures are test failures.
void WriteDiskFile(const std::string& path, absl::string_view content);
std::string ReadDiskFile(const std::string& path);
void MakeDiskDir(const std::string& path);
void MakeDiskSymlink(const std::string& target, const std::string& path);
// True when something (even a dangling symlink) is at `path`.
bool DiskExists(const std::string& path);
// Names beneath directory `dir` that look like temporary upload files
// (kTempPrefix), marked or not.
std::vector<std::string> TempFilesIn(const std::string& dir);

// Every entry beneath `dir` (except the subtree `exclude`, a path beneath
// `dir`) mapped to a description of its type, mode, owner, size, mtime,
// ctime, link target and contents: two snapshots differ if anything in
// the tree was created, removed, written, renamed or had attributes
// changed.
std::map<std::string, std::string> SnapshotTree(const std::string& dir,
                                                const std::string& exclude);

// Serves a LocalFsBackend whose root is `root()` (an empty directory inside
// `base()`) on 127.0.0.1 over real gRPC; `client()` acts for a session
// whose root is "/".
class LocalFsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const TempDir& base() const { return base_; }
  const std::string& root() const { return root_; }
  TestClient& client() { return *client_; }
  // A client on the same channel for `session`.
  TestClient ClientFor(const Session& session) const;
  // The host path of `session_path` for a session rooted at "/".
  std::string Disk(absl::string_view session_path) const;

 private:
  TempDir base_;
  std::string root_;
  std::unique_ptr<LocalFsBackend> backend_;
  std::unique_ptr<BackendServer> server_;
  std::unique_ptr<TestClient> client_;
};

}  // namespace sftpgate::localfs::testing

#endif  // SFTPGATE_TESTS_LOCALFS_LOCALFS_TEST_ENV_H_
