#include "server/exec/checksum_session.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/log.h"
#include "server/exec/coreutils_format.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::exec {
ChecksumSession::ChecksumSession(ChecksumCommand command,
                                 SftpSessionOptions options)
    : ExecSession(std::move(options)),
      command_(std::move(command)),
      input_digest_(command_.algorithm) {}

void ChecksumSession::Run() { Next(); }

void ChecksumSession::Next() {
  if (next_ >= command_.paths.size()) return Exit(failed_ ? 1 : 0);
  const std::string& name = command_.paths[next_];
  if (name == "-") {
    reading_input_ = true;
    if (input_ended_) return OnEndOfInput();
    return ResumeInput();
  }
  absl::StatusOr<std::string> path = NormalizePath(name);
  if (!path.ok()) {
    Err(DiagnosticLine(command_.program, name, "Invalid argument"));
    failed_ = true;
    ++next_;
    return Next();
  }
  sftp::FileHasher::Request request;
  request.path = *std::move(path);
  request.algorithm = command_.algorithm;
  const auto start = std::chrono::steady_clock::now();
  std::weak_ptr<SftpSession> weak = weak_from_this();
  hasher_ = sftp::FileHasher::Start(
      backend(), caps(), options().hash_budget, std::move(request),
      [this, weak, name, start](const grpc::Status& status,
                                std::vector<std::string> digests) {
        if (weak.lock() == nullptr || finished()) return;
        const uint64_t bytes = hasher_->bytes_read();
        Later([this, name, status, digests = std::move(digests), bytes,
               start]() mutable {
          hasher_.reset();
          OnHashed(name, status, std::move(digests), bytes, start);
        });
      });
}

void ChecksumSession::OnHashed(const std::string& name,
                               const grpc::Status& status,
                               std::vector<std::string> digests,
                               uint64_t bytes_read,
                               std::chrono::steady_clock::time_point start) {
  const std::string ms =
      absl::StrFormat("%.1f", std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - start)
                                  .count());
  if (status.ok() && digests.size() == 1) {
    Out(ChecksumLine(sftp::HexDigest(digests[0]), name));
  } else {
    failed_ = true;
    Err(DiagnosticLine(
        command_.program, name,
        status.error_code() == grpc::StatusCode::FAILED_PRECONDITION
            ? status.error_message()
            : ErrorText(status)));
  }
  CountOperation(command_.program, status);
  LogEvent(LogLevel::kInfo, "checksum",
           {{"session", options().session.session_id()},
            {"user", options().session.user()},
            {"command", command_.program},
            {"path", name},
            {"result", status.ok() ? "ok" : ErrorText(status)},
            {"bytes_read", absl::StrCat(bytes_read)},
            {"ms", ms}});
  ++next_;
  Next();
}

size_t ChecksumSession::OnInput(absl::string_view data) {
  if (!reading_input_) return 0;  // wait until a "-" operand is reached
  input_digest_.Update(data);
  return data.size();
}

void ChecksumSession::OnEndOfInput() {
  input_ended_ = true;
  if (!reading_input_) return;
  reading_input_ = false;
  // After the first "-", the input is at its end: later ones hash nothing.
  Out(ChecksumLine(sftp::HexDigest(input_digest_.Finish()), "-"));
  ++next_;
  Next();
}

void ChecksumSession::OnShutdown() { hasher_.reset(); }

bool ChecksumSession::Busy() const { return !reading_input_; }

}  // namespace sftpgate::server::exec
