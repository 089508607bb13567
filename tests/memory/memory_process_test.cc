// The sftpgate-memory-backend program: flags, serving, clean shutdown on
// SIGTERM, errors on bad flags.

#include <sys/wait.h>

#include "gtest/gtest.h"
#include "tests/sdk/testing/backend_process.h"
#include "tests/sdk/testing/local_server.h"
#include "tests/sdk/testing/session_builder.h"
#include "tests/sdk/testing/test_client.h"

namespace sftpgate::testing {
namespace {

constexpr char kBinary[] = SFTPGATE_MEMORY_BACKEND_PATH;

TEST(MemoryProcessTest, ServesAndStopsCleanlyOnSigterm) {
  auto process = BackendProcess::Start(kBinary, {"--capacity=65536"});
  ASSERT_TRUE(process.ok()) << process.status();
  TestClient client(MakeChannel((*process)->target()),
                    SessionBuilder().Root("/u").Build());
  absl::StatusOr<v1::DescribeResponse> d = client.Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name(), "memory 1.0");
  EXPECT_TRUE(d->symlinks());
  EXPECT_TRUE(d->hard_links());
  EXPECT_TRUE(d->stat_fs());
  EXPECT_TRUE(d->real_path());
  EXPECT_TRUE(d->set_stat_no_follow());
  EXPECT_TRUE(d->random_write());
  ASSERT_TRUE(client.WriteFile("/f", "over the wire").ok());
  EXPECT_EQ(*client.ReadFile("/f"), "over the wire");
  EXPECT_EQ(client.StatFs("/")->blocks(), 16u);  // --capacity / 4096

  int status = (*process)->Stop();
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Gone: calls fail instead of hanging.
  TestClient late(MakeChannel((*process)->target()), SessionBuilder().Build(),
                  absl::Seconds(5));
  EXPECT_FALSE(late.Describe().ok());
}

TEST(MemoryProcessTest, BadFlagsExitWithAnError) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--no-such-flag"},
        std::vector<std::string>{"--capacity=lots"},
        std::vector<std::string>{"stray-argument"},
        std::vector<std::string>{"--chunk_size=0"}}) {
    auto process = BackendProcess::Start(kBinary, args, absl::Seconds(20));
    EXPECT_FALSE(process.ok()) << args[0];
    EXPECT_EQ(process.status().code(), absl::StatusCode::kUnavailable)
        << process.status();
  }
}

}  // namespace
}  // namespace sftpgate::testing
