// The sftpgate-localfs-backend program refuses bad flags and unusable
// roots with a non-zero exit and a message that names the problem.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"

namespace sftpgate::localfs::testing {
namespace {

using ::testing::HasSubstr;

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal or did not exit
  std::string stderr_text;
};

// Runs the backend with `args`, as user `run_as_uid` when >= 0 (needs
// root), and returns its exit code and stderr. Kills it after 30 s.
Outcome RunBackend(const std::vector<std::string>& args, int run_as_uid = -1) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  std::vector<std::string> argv_s = {LOCALFS_BACKEND_PATH};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 2);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    if (run_as_uid >= 0 &&
        (::setgid(run_as_uid) != 0 || ::setuid(run_as_uid) != 0)) {
      ::_exit(125);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  Outcome out;
  const absl::Time end = absl::Now() + absl::Seconds(30);
  char buf[4096];
  for (;;) {
    pollfd p{fds[0], POLLIN, 0};
    int left = static_cast<int>(absl::ToInt64Milliseconds(end - absl::Now()));
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    if (::poll(&p, 1, left) <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n <= 0) break;
    out.stderr_text.append(buf, n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

class LocalFsCliTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(LocalFsCliTest, MissingRoot) {
  Outcome o = RunBackend({"--listen=127.0.0.1:0"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_text, HasSubstr("--root is required"));
}

TEST_F(LocalFsCliTest, MissingListen) {
  Outcome o = RunBackend({"--root", dir_.path()});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_text, HasSubstr("--listen is required"));
}

TEST_F(LocalFsCliTest, UnknownFlag) {
  Outcome o =
      RunBackend({"--root", dir_.path(), "--listen=127.0.0.1:0", "--bogus"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_text, HasSubstr("unknown flag --bogus"));
}

TEST_F(LocalFsCliTest, StrayArgument) {
  Outcome o =
      RunBackend({"--root", dir_.path(), "--listen=127.0.0.1:0", "extra"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_text, HasSubstr("unexpected argument \"extra\""));
}

TEST_F(LocalFsCliTest, RootDoesNotExist) {
  Outcome o =
      RunBackend({"--root", dir_.Sub("missing"), "--listen=127.0.0.1:0"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.stderr_text, HasSubstr("does not exist"));
  EXPECT_THAT(o.stderr_text, HasSubstr(dir_.Sub("missing")));
}

TEST_F(LocalFsCliTest, RootIsADanglingLink) {
  MakeDiskSymlink(dir_.Sub("nowhere"), dir_.Sub("link"));
  Outcome o = RunBackend({"--root", dir_.Sub("link"), "--listen=127.0.0.1:0"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.stderr_text, HasSubstr("does not exist"));
}

TEST_F(LocalFsCliTest, RootIsAFile) {
  WriteDiskFile(dir_.Sub("file"), "x");
  Outcome o = RunBackend({"--root", dir_.Sub("file"), "--listen=127.0.0.1:0"});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.stderr_text, HasSubstr("is not a directory"));
}

TEST_F(LocalFsCliTest, RootIsNotAccessible) {
  const std::string locked = dir_.Sub("locked");
  MakeDiskDir(locked);
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);  // mkdtemp made it 0700
  // Root ignores permissions: run the program as "nobody" then.
  Outcome o = RunBackend({"--root", locked, "--listen=127.0.0.1:0"},
                         ::geteuid() == 0 ? 65534 : -1);
  ::chmod(locked.c_str(), 0755);
  ASSERT_NE(o.exit_code, 125) << "could not drop privileges";
  ASSERT_NE(o.exit_code, 127) << "program not executable as that user";
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_THAT(o.stderr_text, HasSubstr("is not accessible"));
}

TEST_F(LocalFsCliTest, BadListenAddress) {
  Outcome o = RunBackend({"--root", dir_.path(), "--listen=256.256.256.256:1"});
  EXPECT_NE(o.exit_code, 0);
  EXPECT_FALSE(o.stderr_text.empty());
}

TEST_F(LocalFsCliTest, MalformedFlagValue) {
  Outcome o = RunBackend(
      {"--root", dir_.path(), "--listen=127.0.0.1:0", "--threads=many"});
  EXPECT_EQ(o.exit_code, 2);
  EXPECT_THAT(o.stderr_text, HasSubstr("threads"));
}

}  // namespace
}  // namespace sftpgate::localfs::testing
