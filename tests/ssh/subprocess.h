// Minimal child-process helper for the process-level tests: run to
// completion with stdin text, or run in the background with stderr going to
// a file that the test can poll.

#ifndef SFTPGATE_TESTS_SSH_SUBPROCESS_H_
#define SFTPGATE_TESTS_SSH_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace sftpgate::testing_util {

struct RunResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs `argv` with `input` on stdin; kills it after `timeout`.
RunResult RunProcess(const std::vector<std::string>& argv,
                     const std::string& input,
                     absl::Duration timeout = absl::Seconds(30));

// A background process whose stderr goes to a file.
class Background {
 public:
  Background(const std::vector<std::string>& argv, std::string stderr_path);
  ~Background();  // SIGKILLs the process if still running

  // Waits until stderr contains `text`; false on timeout or exit.
  bool WaitForStderr(const std::string& text,
                     absl::Duration timeout = absl::Seconds(20));
  std::string Stderr() const;
  // Sends `signal` and waits for the exit; returns the exit code (-1 when
  // killed by a signal or still running after `timeout`).
  int Stop(int signal, absl::Duration timeout = absl::Seconds(20));
  bool Running();
  // Sends `signal` without waiting.
  void Signal(int signal);

 private:
  pid_t pid_ = -1;
  std::string stderr_path_;
  int exit_code_ = -1;
};

}  // namespace sftpgate::testing_util

#endif  // SFTPGATE_TESTS_SSH_SUBPROCESS_H_
