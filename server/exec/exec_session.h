// ExecSession: the base of the allow-listed exec commands (exec_command.h).
// It gives each command what an SFTP session has: a BackendClient of its
// own (the same calls, Session, deadline and transfer budget), the backend's
// Describe answer, stdout/stderr/exit on the channel, and input with
// backpressure (a command that takes less than it is offered stops the
// channel until it calls ResumeInput()).
//
// StartExecSession() is the SSH layer's one entry point.
//
// Thread safety: loop thread only (like SftpSession).

#ifndef SFTPGATE_SERVER_EXEC_EXEC_SESSION_H_
#define SFTPGATE_SERVER_EXEC_EXEC_SESSION_H_

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "grpcpp/alarm.h"
#include "server/backend/backend_client.h"
#include "server/exec/exec_command.h"
#include "server/sftp/rate_limiter.h"
#include "server/sftp/sftp_session.h"

namespace sftpgate::server::exec {

// Starts serving `command` on the channel behind options.sink. Never null.
std::shared_ptr<SftpSession> StartExecSession(ExecCommand command,
                                              SftpSessionOptions options);

// Starts a command that only prints `message` (a line) on stderr and exits
// 1: an exec request that was accepted so that the client can show why it
// is not served (a refused request carries no message). Never null.
std::shared_ptr<SftpSession> StartExecRefusal(std::string message,
                                              SftpSessionOptions options);

// A backend error as the coreutils and scp tools word theirs (strerror:
// "No such file or directory", "Permission denied", else the backend's
// message); UNAVAILABLE and DEADLINE_EXCEEDED without gRPC's transport
// detail (it names internal addresses).
std::string ErrorText(const grpc::Status& status);

class ExecSession : public SftpSession {
 public:
  explicit ExecSession(SftpSessionOptions options);
  ~ExecSession() override;

  // SftpSession.
  size_t OnChannelData(absl::string_view data) final;
  void Shutdown() final;
  // 1 while the command works (before Run(), or while Busy()), 0 while
  // it waits for its client: an `scp -t` waiting for the next file is as
  // idle as an SFTP session with no request, for the idle timeout and for
  // draining.
  size_t InFlight() const final {
    return finished_ ? 0 : (!running_ || Busy()) ? 1 : 0;
  }
  bool EndsWithInput() const final { return false; }
  void OnInputEnd() final;

  // Asks the backend's Describe, then calls Run(). Call once, after the
  // session is held by a shared_ptr.
  void Start();

 protected:
  // The command's work, once caps() is known.
  virtual void Run() = 0;
  // Channel input (the client's stdin). Returns how much was taken; when
  // less than offered, call ResumeInput() once ready for more.
  virtual size_t OnInput(absl::string_view data) = 0;
  // The client sent EOF and all its input was taken.
  virtual void OnEndOfInput() = 0;
  // The session is shutting down (channel gone): drop backend work.
  virtual void OnShutdown() {}
  // Whether the command is doing something other than waiting for its
  // client's input (a backend call, a file being sent, a rate-limit wait).
  virtual bool Busy() const { return true; }

  void Out(std::string bytes);
  // Out() of `buffer`'s bytes from `start` on, without copying them.
  void OutFrom(std::string buffer, size_t start);
  void Err(std::string bytes);
  // Ends the command with `status` (once output is flushed).
  void Exit(int status);
  void ResumeInput();
  // Runs `fn` on the loop after the current callback, unless the session
  // is gone or shut down by then.
  void Later(absl::AnyInvocable<void()> fn);
  bool finished() const { return finished_; }
  const SftpSessionOptions& options() const { return options_; }
  const std::shared_ptr<backend::BackendClient>& backend() const {
    return backend_;
  }
  const v1::DescribeResponse& caps() const { return caps_; }
  // Largest chunk to send in one Write message.
  uint32_t max_chunk() const;

  // Counts one finished exec operation in sftpgate_operations_total with
  // the SFTP status `status` maps to (as SFTP requests are counted). `op`:
  // "scp-upload", "scp-download", "scp-mkdir" (per file or directory) or
  // "md5sum", "sha1sum", "sha256sum" (per file hashed).
  void CountOperation(absl::string_view op, const grpc::Status& status) const;
  // Reports `kind` for `path` to the event sink (if any), like the SFTP
  // layer: `size` and `duration` for UPLOAD and DOWNLOAD.
  void Notify(v1::EventKind kind, const std::string& path, uint64_t size = 0,
              std::chrono::steady_clock::duration duration = {}) const;
  // Whether `limit` (null: unlimited) lets bytes flow now. When it does
  // not, `then` runs on the loop once it should (Busy() meanwhile: see
  // rate_waiting()), and false is returned.
  bool RateReady(sftp::RateLimiter* limit, absl::AnyInvocable<void()> then);
  bool rate_waiting() const { return rate_timer_ != nullptr; }
  // Called on the loop every quarter of the call timeout (10 ms to 1 s)
  // while the command runs: fails a backend stream that made no progress
  // for the call timeout (streams carry no deadline of their own, as a
  // transfer may take hours), as the SFTP session does.
  virtual void CheckTimeouts(std::chrono::steady_clock::time_point /*now*/) {}

 private:
  SftpSessionOptions options_;
  std::shared_ptr<backend::LoopPoster> poster_;
  std::shared_ptr<backend::BackendClient> backend_;
  v1::DescribeResponse caps_;
  // Runs `fn` on the loop after `delay`, unless the returned alarm is
  // dropped first or the command finished.
  std::unique_ptr<grpc::Alarm> OnLoopAfter(
      std::chrono::steady_clock::duration delay, absl::AnyInvocable<void()> fn);
  void ArmWatchdog();

  std::unique_ptr<grpc::Alarm> rate_timer_;  // set while RateReady waits
  std::unique_ptr<grpc::Alarm> watchdog_;    // CheckTimeouts() ticks
  bool running_ = false;                     // Run() was called
  bool input_ended_ = false;
  bool finished_ = false;  // Exit() or Shutdown()
  bool shut_down_ = false;
};

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_EXEC_SESSION_H_
