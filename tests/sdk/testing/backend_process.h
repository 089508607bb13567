// BackendProcess: a backend program run as a child process for tests that
// need a real process (flags, signals, crash isolation).
//
//   auto backend = BackendProcess::Start(kMemoryBackendPath,
//   {"--capacity=1000000"}); ASSERT_TRUE(backend.ok()) << backend.status();
//   TestClient client(MakeChannel((*backend)->target()), session);
//
// The program is started with the extra argument --listen=127.0.0.1:0 and
// must print "listening on ADDR" to stderr (as ServeBackend does); its
// stderr is then forwarded to the test's stderr.
//
// Thread safety: not thread-safe; use from one thread.

#ifndef SFTPGATE_TESTS_SDK_TESTING_BACKEND_PROCESS_H_
#define SFTPGATE_TESTS_SDK_TESTING_BACKEND_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sftpgate::testing {

class BackendProcess {
 public:
  // Runs `binary` with `args` and --listen=127.0.0.1:0, and waits up to
  // `timeout` for its "listening on" line. Fails (and kills the child) if
  // it exits or stays silent.
  static absl::StatusOr<std::unique_ptr<BackendProcess>> Start(
      const std::string& binary, const std::vector<std::string>& args,
      absl::Duration timeout = absl::Seconds(30));

  // Stops the process if it is still running (see Stop()).
  ~BackendProcess();
  BackendProcess(const BackendProcess&) = delete;
  BackendProcess& operator=(const BackendProcess&) = delete;

  // The address the backend listens on, e.g. "127.0.0.1:40123".
  const std::string& target() const { return target_; }
  pid_t pid() const { return pid_; }

  // Sends SIGTERM, waits (SIGKILL after 20 s) and returns the raw wait
  // status (use WIFEXITED/WEXITSTATUS). Idempotent.
  int Stop();

 private:
  BackendProcess(pid_t pid, int stderr_fd, std::string target);

  pid_t pid_;
  int stderr_fd_;
  std::string target_;
  std::thread forwarder_;
  bool stopped_ = false;
  int wait_status_ = 0;
};

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_TESTING_BACKEND_PROCESS_H_
