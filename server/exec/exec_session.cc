#include "server/exec/exec_session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/exec/checksum_session.h"
#include "server/exec/scp_session.h"
#include "server/sftp/describe_backend.h"
#include "server/sftp/sftp_metrics.h"
#include "server/sftp/status_mapping.h"

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

// An exec request accepted only to say why it is not served.
class RefusalSession final : public ExecSession {
 public:
  RefusalSession(std::string message, SftpSessionOptions options)
      : ExecSession(std::move(options)), message_(std::move(message)) {}

 protected:
  void Run() override {
    Err(absl::StrCat(message_, "\n"));
    Exit(1);
  }
  size_t OnInput(absl::string_view data) override { return data.size(); }
  void OnEndOfInput() override {}

 private:
  const std::string message_;
};

// Rate-limit timer bounds, as for SFTP (server/sftp/bandwidth.cc).
constexpr auto kMinRateWait = std::chrono::milliseconds(1);
constexpr auto kMaxRateWait = std::chrono::milliseconds(50);

// The sftpgate_operations_total op labels of exec commands, in the top
// metric slots (SftpMetrics::kExecOpSlots), clear of the SFTP requests'.
constexpr const char* kOpNames[] = {"scp-upload", "scp-download", "scp-mkdir",
                                    "md5sum",     "sha1sum",      "sha256sum"};
static_assert(std::size(kOpNames) <= sftp::SftpMetrics::kExecOpSlots,
              "more exec op names than exec metrics slots");

}  // namespace

std::shared_ptr<SftpSession> StartExecRefusal(std::string message,
                                              SftpSessionOptions options) {
  auto session =
      std::make_shared<RefusalSession>(std::move(message), std::move(options));
  session->Start();
  return session;
}

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
  rate_timer_.reset();
  watchdog_.reset();
  poster_->Detach();
  backend_->Shutdown();
}

void ExecSession::Start() {
  // The client never runs a callback after its Shutdown() (in ours), so
  // `this` is alive whenever one runs.
  sftp::DescribeBackend(*backend_, options_.session,
                        [this](const grpc::Status&, v1::DescribeResponse caps) {
                          // Without an answer, defaults serve: a command
                          // is short, and its calls report the backend's
                          // state themselves.
                          if (finished_) return;
                          caps_ = std::move(caps);
                          running_ = true;
                          ArmWatchdog();
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
  rate_timer_.reset();
  watchdog_.reset();
  poster_->Detach();
  backend_->Shutdown();
  OnShutdown();
}

std::string ErrorText(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return "No such file or directory";
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return status.error_message().empty() ? "Permission denied"
                                            : status.error_message();
    case grpc::StatusCode::UNAVAILABLE:
      return "backend unavailable";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "backend timed out";
    default:
      return status.error_message().empty() ? "Input/output error"
                                            : status.error_message();
  }
}

void ExecSession::Out(std::string bytes) {
  if (!finished_) options_.sink->Send(std::move(bytes));
}

void ExecSession::OutFrom(std::string buffer, size_t start) {
  if (!finished_) options_.sink->SendFrom(std::move(buffer), start);
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

void ExecSession::CountOperation(absl::string_view op,
                                 const grpc::Status& status) const {
  for (int i = 0; i < static_cast<int>(std::size(kOpNames)); ++i) {
    if (op != kOpNames[i]) continue;
    sftp::SftpMetrics::Get().CountOperation(
        sftp::SftpMetrics::kMaxOpSlots - 1 - i, kOpNames[i],
        sftp::ToSftpStatus(status).code);
    return;
  }
}

void ExecSession::Notify(v1::EventKind kind, const std::string& path,
                         uint64_t size,
                         std::chrono::steady_clock::duration duration) const {
  if (options_.events == nullptr) return;
  v1::Event event = NewEvent(kind, options_.session, path);
  event.set_size(size);
  event.set_duration_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
  options_.events->Publish(std::move(event));
}

bool ExecSession::RateReady(sftp::RateLimiter* limit,
                            absl::AnyInvocable<void()> then) {
  if (limit == nullptr || finished_) return true;
  const auto now = sftp::RateLimiter::Clock::now();
  if (rate_timer_ == nullptr && limit->Ready(now)) return true;
  if (rate_timer_ != nullptr) return false;  // already waiting
  const auto wait = std::clamp<sftp::RateLimiter::Clock::duration>(
      limit->Wait(now), kMinRateWait, kMaxRateWait);
  rate_timer_ = OnLoopAfter(wait, [this, then = std::move(then)]() mutable {
    rate_timer_.reset();
    then();
  });
  return false;
}

void ExecSession::ArmWatchdog() {
  if (finished_ || watchdog_ != nullptr) return;
  const auto interval = std::clamp<std::chrono::steady_clock::duration>(
      backend_->call_timeout() / 4, std::chrono::milliseconds(10),
      std::chrono::seconds(1));
  watchdog_ = OnLoopAfter(interval, [this] {
    watchdog_.reset();
    CheckTimeouts(std::chrono::steady_clock::now());
    ArmWatchdog();
  });
}

std::unique_ptr<grpc::Alarm> ExecSession::OnLoopAfter(
    std::chrono::steady_clock::duration delay, absl::AnyInvocable<void()> fn) {
  auto alarm = std::make_unique<grpc::Alarm>();
  alarm->Set(std::chrono::system_clock::now() + delay,
             [poster = poster_, weak = weak_from_this(), this,
              fn = std::make_shared<absl::AnyInvocable<void()>>(std::move(fn))](
                 bool fired) {
               if (!fired) return;  // cancelled: the alarm's owner dropped it
               poster->Post([weak, this, fn] {
                 if (weak.lock() != nullptr && !finished_) (*fn)();
               });
             });
  return alarm;
}

}  // namespace sftpgate::server::exec
