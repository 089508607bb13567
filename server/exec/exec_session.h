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

#include <cstddef>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "server/backend/backend_client.h"
#include "server/exec/exec_command.h"
#include "server/sftp/sftp_session.h"

namespace sftpgate::server::exec {

// Starts serving `command` on the channel behind options.sink. Never null.
std::shared_ptr<SftpSession> StartExecSession(ExecCommand command,
                                              SftpSessionOptions options);

class ExecSession : public SftpSession {
 public:
  explicit ExecSession(SftpSessionOptions options);
  ~ExecSession() override;

  // SftpSession.
  size_t OnChannelData(absl::string_view data) final;
  void Shutdown() final;
  size_t InFlight() const final { return finished_ ? 0 : 1; }
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

  void Out(std::string bytes);
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

 private:
  SftpSessionOptions options_;
  std::shared_ptr<backend::LoopPoster> poster_;
  std::shared_ptr<backend::BackendClient> backend_;
  v1::DescribeResponse caps_;
  bool running_ = false;  // Run() was called
  bool input_ended_ = false;
  bool finished_ = false;  // Exit() or Shutdown()
  bool shut_down_ = false;
};

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_EXEC_SESSION_H_
