// A full disk: uploads fail with RESOURCE_EXHAUSTED, leave no temporary
// file behind, and leave the previous contents in place. The backend
// program runs in its own mount namespace on a 1 MiB tmpfs (needs root to
// mount; skipped otherwise); the test looks at that tmpfs through
// /proc/<pid>/root.

#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"
#include "tests/sdk/testing/backend_process.h"
#include "tests/sdk/testing/environment_skip.h"
#include "tests/sdk/testing/local_server.h"

namespace sftpgate::localfs::testing {
namespace {

TEST(LocalFsDiskFullTest, UploadsFailCleanlyWhenTheDiskIsFull) {
  if (::geteuid() != 0) {
    SFTPGATE_ENVIRONMENT_SKIP("needs root to mount a tmpfs");
  }
  TempDir dir;
  // unshare execs sh, which execs the backend: one pid throughout. The
  // appended --listen flag reaches the backend through "$@".
  auto backend = sftpgate::testing::BackendProcess::Start(
      "/usr/bin/unshare",
      {"--mount", "--propagation", "private", "/bin/sh", "-c",
       absl::StrCat("mount -t tmpfs -o size=1m tmpfs ", dir.path(), " && exec ",
                    LOCALFS_BACKEND_PATH, " --root ", dir.path(), " \"$@\""),
       "sh"});
  if (!backend.ok()) {
    SFTPGATE_ENVIRONMENT_SKIP("cannot mount here: " +
                              backend.status().ToString());
  }
  const std::string view =
      absl::StrCat("/proc/", (*backend)->pid(), "/root", dir.path());
  TestClient client(sftpgate::testing::MakeChannel((*backend)->target()),
                    SessionBuilder().Build());

  ASSERT_TRUE(client.WriteFile("/keep", "previous").ok());
  const std::string big(2 << 20, 'x');
  auto full = client.WriteFile("/keep", big);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted)
      << full.status();
  auto fresh = client.WriteFile("/fresh", big);
  EXPECT_EQ(fresh.status().code(), absl::StatusCode::kResourceExhausted)
      << fresh.status();

  EXPECT_THAT(TempFilesIn(view), ::testing::IsEmpty());
  EXPECT_EQ(ReadDiskFile(view + "/keep"), "previous");
  EXPECT_FALSE(DiskExists(view + "/fresh"));
  // The space came back: a small upload works again.
  EXPECT_TRUE(client.WriteFile("/after", std::string(100000, 'y')).ok());
}

}  // namespace
}  // namespace sftpgate::localfs::testing
