#include "server/exec/exec_session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/log.h"
#include "server/exec/checksum_session.h"
#include "server/exec/scp_session.h"

namespace sftpgate::server::exec {
namespace {

// `echo`: prints its words, exits 0. No backend.
class EchoSession final : public ExecSession {
 public:
  EchoSession(EchoCommand command, SftpSessionOptions options)
      : ExecSession(std::move(options)), command_(std::move(command)) {}

 protected:
  void Run() override {
    Out(absl::StrCat(absl::StrJoin(command_.words, " "),
                     command_.newline ? "\n" : ""));
    Exit(0);
  }
  size_t OnInput(absl::string_view data) override { return data.size(); }
  void OnEndOfInput() override {}

 private:
  const EchoCommand command_;
};

}  // namespace

std::shared_ptr<SftpSession> StartExecSession(ExecCommand command,
                                              SftpSessionOptions options) {
  std::shared_ptr<ExecSession> session;
  if (auto* echo = std::get_if<EchoCommand>(&command)) {
    session =
        std::make_shared<EchoSession>(std::move(*echo), std::move(options));
  } else if (auto* sum = std::get_if<ChecksumCommand>(&command)) {
    session =
        std::make_shared<ChecksumSession>(std::move(*sum), std::move(options));
  } else {
    session = std::make_shared<ScpSession>(
        std::move(std::get<ScpCommand>(command)), std::move(options));
  }
  session->Start();
  return session;
}

ExecSession::ExecSession(SftpSessionOptions options)
    : options_(std::move(options)) {
  poster_ = std::make_shared<backend::LoopPoster>(options_.executor);
  backend::BackendClientOptions client;
  client.session = options_.session;
  client.poster = poster_;
  client.call_timeout =
      std::chrono::milliseconds(options_.limits.call_timeout_ms);
  client.budget = std::make_shared<backend::TransferBudget>(
      options_.limits.max_transfer_buffer, options_.total_transfer_budget);
  backend_ = options_.backend(std::move(client));
  if (options_.hash_budget == nullptr) {
    options_.hash_budget =
        std::make_shared<sftp::HashBudget>(options_.limits.max_hash_bytes);
  }
}

ExecSession::~ExecSession() {
  poster_->Detach();
  backend_->Shutdown();
}

void ExecSession::Start() {
  // The client never runs a callback after its Shutdown() (in ours), so
  // `this` is alive whenever one runs.
  backend_->Describe(v1::DescribeRequest(), [this](const grpc::Status& status,
                                                   v1::DescribeResponse& caps) {
    if (finished_) return;
    if (status.ok()) {
      caps_ = std::move(caps);
    } else {
      // As for SFTP: serve anyway, each call reports the backend's
      // state itself.
      LogEvent(LogLevel::kWarning, "backend_describe_failed",
               {{"session", options_.session.session_id()},
                {"user", options_.session.user()},
                {"error", status.error_message()}});
    }
    running_ = true;
    Run();
    if (finished_) return;
    // Input that waited for Run().
    ResumeInput();
    if (input_ended_) OnEndOfInput();
  });
}

size_t ExecSession::OnChannelData(absl::string_view data) {
  if (finished_) return data.size();  // nobody is listening any more
  if (!running_) return 0;            // offered again after Run()
  return OnInput(data);
}

void ExecSession::OnInputEnd() {
  input_ended_ = true;
  if (running_ && !finished_) OnEndOfInput();
}

void ExecSession::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  finished_ = true;
  poster_->Detach();
  backend_->Shutdown();
  OnShutdown();
}

void ExecSession::Out(std::string bytes) {
  if (!finished_) options_.sink->Send(std::move(bytes));
}

void ExecSession::Err(std::string bytes) {
  if (!finished_) options_.sink->SendStderr(std::move(bytes));
}

void ExecSession::Exit(int status) {
  if (finished_) return;
  finished_ = true;
  options_.sink->Exit(status);
}

void ExecSession::ResumeInput() {
  if (finished_ || options_.resume_input == nullptr) return;
  Later([this] { options_.resume_input(); });
}

void ExecSession::Later(absl::AnyInvocable<void()> fn) {
  poster_->Post([weak = weak_from_this(), this, fn = std::move(fn)]() mutable {
    if (weak.lock() != nullptr && !finished_) fn();
  });
}

uint32_t ExecSession::max_chunk() const {
  uint32_t chunk = caps_.preferred_chunk_size() > 0
                       ? caps_.preferred_chunk_size()
                       : 256 * 1024;
  if (caps_.max_chunk_size() > 0 && chunk > caps_.max_chunk_size()) {
    chunk = caps_.max_chunk_size();
  }
  return chunk;
}

}  // namespace sftpgate::server::exec
