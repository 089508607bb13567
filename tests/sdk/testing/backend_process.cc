#include "tests/sdk/testing/backend_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sftpgate::testing {
namespace {

constexpr absl::string_view kListening = "listening on ";

// Waits for `pid` up to `timeout`; true (and *status set) if it exited.
bool WaitFor(pid_t pid, absl::Duration timeout, int* status) {
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    pid_t done = waitpid(pid, status, WNOHANG);
    if (done == pid) return true;
    if (done < 0 && errno != EINTR) return true;  // already reaped
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// Reads lines from `fd` until one starts with kListening; returns the
// address after it. Lines before it are echoed to stderr.
absl::StatusOr<std::string> AwaitListening(int fd, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  std::string buffer;
  while (true) {
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (absl::StartsWith(line, kListening)) {
        return line.substr(kListening.size());
      }
      std::fprintf(stderr, "[backend] %s\n", line.c_str());
    }
    const absl::Duration left = end - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("backend did not report listening");
    }
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::UnavailableError(absl::StrCat(
          "backend exited before listening; last output: ", buffer));
    }
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<BackendProcess>> BackendProcess::Start(
    const std::string& binary, const std::vector<std::string>& args,
    absl::Duration timeout) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  argv_strings.push_back("--listen=127.0.0.1:0");
  std::vector<char*> argv;
  for (std::string& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    dup2(pipe_fds[1], STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  absl::StatusOr<std::string> target = AwaitListening(pipe_fds[0], timeout);
  if (!target.ok()) {
    kill(pid, SIGKILL);
    int status;
    WaitFor(pid, absl::Seconds(20), &status);
    close(pipe_fds[0]);
    return target.status();
  }
  return std::unique_ptr<BackendProcess>(
      new BackendProcess(pid, pipe_fds[0], *std::move(target)));
}

BackendProcess::BackendProcess(pid_t pid, int stderr_fd, std::string target)
    : pid_(pid), stderr_fd_(stderr_fd), target_(std::move(target)) {
  // Keep draining the child's stderr so it never blocks on a full pipe.
  forwarder_ = std::thread([fd = stderr_fd_] {
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      fwrite(chunk, 1, static_cast<size_t>(n), stderr);
    }
  });
}

BackendProcess::~BackendProcess() { Stop(); }

int BackendProcess::Stop() {
  if (stopped_) return wait_status_;
  stopped_ = true;
  kill(pid_, SIGTERM);
  if (!WaitFor(pid_, absl::Seconds(20), &wait_status_)) {
    kill(pid_, SIGKILL);
    WaitFor(pid_, absl::Seconds(20), &wait_status_);
  }
  // The child is gone, so its end of the pipe is closed and the forwarder
  // sees EOF (unless a grandchild kept it; then it ends with the process).
  forwarder_.join();
  close(stderr_fd_);
  return wait_status_;
}

}  // namespace sftpgate::testing
