// Per-user quotas (SftpSessionOptions::quota: quota_bytes, quota_files),
// against the usage the backend reports (the optional Usage call,
// Describe.usage).
//
//  - OPEN for writing asks Usage. A new file past quota_files is refused;
//    otherwise the upload is accounted in the user's ledger, which knows
//    the user's other uploads in progress (the file being replaced or
//    extended does not count against itself).
//  - Every WRITE (and copy-data chunk) reserves its bytes in the ledger
//    before it is queued. The one that would pass quota_bytes fails, and so
//    does the upload for good: its stream is cancelled, the backend discards
//    it, CLOSE reports "quota exceeded" and nothing of it is committed.
//  - SETSTAT, FSETSTAT and lsetstat that grow a file (a size past its
//    current one) reserve the growth the same way, so a truncate upwards
//    cannot pass quota_bytes either.
//  - statvfs shows the quota as the size and the usage as used.
//
// Uploads running at the same time, in any of the user's sessions on this
// front end, are accounted together in the user's QuotaLedger
// (quota_ledger.h): together they never pass the quota. A backend that
// cannot report usage gets no uploads from users with a quota (refused,
// not unlimited), and each such session logs quota_unenforceable. Until
// the backend answered Describe that is not known: such requests ask it
// again (WhenDescribed) and fail as the backend does, not for the quota.

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

// statvfs units when showing a byte quota.
constexpr uint64_t kQuotaBlock = 1024;

Counter* QuotaRefusals(const char* kind) {
  return Metrics::Global().GetCounter(
      "sftpgate_quota_exceeded_total",
      "Uploads refused for the user's quota, by kind: bytes, files, "
      "no_usage (the backend cannot report usage)",
      {{"kind", kind}});
}

}  // namespace

void SessionImpl::QuotaExceeded(absl::string_view path, const char* kind,
                                uint64_t quota) {
  QuotaRefusals(kind)->Increment();
  LogEvent(LogLevel::kWarning, "quota_exceeded",
           {{"session", options_.session.session_id()},
            {"user", options_.session.user()},
            {"path", std::string(path)},
            {"kind", kind},
            {"quota", absl::StrCat(quota)}});
}

void SessionImpl::CheckQuotaCapability() {
  if (!QuotaApplies() || caps_.usage()) return;
  // Not silent: the operator set a quota this backend cannot support.
  LogEvent(LogLevel::kWarning, "quota_unenforceable",
           {{"session", options_.session.session_id()},
            {"user", options_.session.user()},
            {"backend", caps_.name()},
            {"uploads", "refused"}});
}

void SessionImpl::OpenWithinQuota(Op op, std::string path, uint32_t pflags,
                                  v1::Attributes attrs, bool exists,
                                  uint64_t old_size) {
  if (!caps_known_) {
    // Whether the backend reports usage is not known yet: never refuse
    // for the quota on a guess.
    return WhenDescribed([this, op = std::move(op), path = std::move(path),
                          pflags, attrs = std::move(attrs), exists,
                          old_size](const grpc::Status& status) mutable {
      if (!status.ok()) return replier_.Result(op, status);
      OpenWithinQuota(std::move(op), std::move(path), pflags, std::move(attrs),
                      exists, old_size);
    });
  }
  if (!caps_.usage()) {
    const UserLimits& quota = options_.quota;
    QuotaExceeded(
        path, "no_usage",
        quota.quota_bytes > 0 ? quota.quota_bytes : quota.quota_files);
    return replier_.Status(op, kFxFailure, kQuotaNoUsageMessage);
  }
  // Commits that finish from here on may be missing from the answer: the
  // ledger counts them on top of it.
  const QuotaLedger::Mark mark = options_.quota_ledger->Now();
  backend_->Usage(
      v1::UsageRequest(),
      [this, op = std::move(op), path = std::move(path), pflags,
       attrs = std::move(attrs), exists, old_size,
       mark](const grpc::Status& status, v1::UsageResponse& answer) mutable {
        if (!status.ok()) return replier_.Result(op, status);
        const UserLimits& quota = options_.quota;
        QuotaLedger::Usage usage;
        usage.bytes = answer.bytes();
        usage.files = answer.files();
        usage.mark = mark;
        std::optional<QuotaLedger::Upload> upload =
            options_.quota_ledger->Begin(quota, usage, exists ? old_size : 0,
                                         /*new_file=*/!exists);
        if (!upload.has_value()) {
          QuotaExceeded(path, "files", quota.quota_files);
          return replier_.Status(op, kFxFailure, "quota exceeded (files)");
        }
        QuotaAllowance allowance(options_.quota_ledger, *upload);
        allowance.append = (pflags & kFxfAppend) != 0;
        allowance.size = exists && !(pflags & kFxfTrunc) ? old_size : 0;
        FinishOpen(std::move(op), std::move(path), pflags, std::move(attrs),
                   exists, std::move(allowance));
      });
}

bool SessionImpl::GrowWithinQuota(Handle* h, uint64_t end) {
  if (!h->quota.has_value()) return true;
  QuotaAllowance& allowance = *h->quota;
  if (options_.quota_ledger->Grow(options_.quota, allowance.upload, end)) {
    allowance.size = std::max(allowance.size, end);
    return true;
  }
  QuotaExceeded(h->path, "bytes", options_.quota.quota_bytes);
  return false;
}

bool SessionImpl::WithinQuota(Handle* h, uint64_t offset, size_t n) {
  if (!h->quota.has_value()) return true;
  const QuotaAllowance& allowance = *h->quota;
  if (GrowWithinQuota(h, allowance.append ? allowance.size + n : offset + n)) {
    return true;
  }
  h->upload->Abort(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                std::string(kQuotaExceededMessage)));
  // The upload can commit nothing more: its room goes back to the user's
  // other uploads now, not when the client closes the handle.
  h->quota.reset();
  return false;
}

void SessionImpl::SetStatWithinQuota(Op op, v1::SetStatRequest request) {
  if (options_.quota.quota_bytes == 0 || !request.attributes().has_size()) {
    return CallForStatus(std::move(op), &backend::BackendClient::SetStat,
                         std::move(request));
  }
  if (!caps_known_) {
    return WhenDescribed(
        [this, op = std::move(op),
         request = std::move(request)](const grpc::Status& status) mutable {
          if (!status.ok()) return replier_.Result(op, status);
          SetStatWithinQuota(std::move(op), std::move(request));
        });
  }
  if (!caps_.usage()) {
    QuotaExceeded(request.path(), "no_usage", options_.quota.quota_bytes);
    return replier_.Status(op, kFxFailure, kQuotaNoUsageMessage);
  }
  v1::StatRequest stat;
  stat.set_path(request.path());
  stat.set_follow_symlinks(request.follow_symlinks());
  backend_->Stat(std::move(stat), [this, op = std::move(op),
                                   request = std::move(request)](
                                      const grpc::Status& status,
                                      v1::StatResponse& file) mutable {
    if (!status.ok()) return replier_.Result(op, status);
    const uint64_t old_size = file.attributes().size();
    if (request.attributes().size() <= old_size) {
      return CallForStatus(std::move(op), &backend::BackendClient::SetStat,
                           std::move(request));
    }
    const QuotaLedger::Mark mark = options_.quota_ledger->Now();
    backend_->Usage(
        v1::UsageRequest(),
        [this, op = std::move(op), request = std::move(request), old_size,
         mark](const grpc::Status& status, v1::UsageResponse& answer) mutable {
          if (!status.ok()) return replier_.Result(op, status);
          QuotaLedger::Usage usage;
          usage.bytes = answer.bytes();
          usage.files = answer.files();
          usage.mark = mark;
          // An existing file: Begin never refuses it (no new file).
          std::optional<QuotaLedger::Upload> growth =
              options_.quota_ledger->Begin(options_.quota, usage, old_size,
                                           /*new_file=*/false);
          if (!growth.has_value() ||
              !options_.quota_ledger->Grow(options_.quota, *growth,
                                           request.attributes().size())) {
            if (growth.has_value()) options_.quota_ledger->End(*growth, false);
            QuotaExceeded(request.path(), "bytes", options_.quota.quota_bytes);
            return replier_.Status(op, kFxFailure, kQuotaExceededMessage);
          }
          // Held until the backend answers (or the session ends first).
          QuotaAllowance held(options_.quota_ledger, *growth);
          backend_->SetStat(
              std::move(request),
              [this, op = std::move(op), held = std::move(held)](
                  const grpc::Status& status, v1::SetStatResponse&) mutable {
                held.committed = status.ok();
                replier_.Result(op, status);
              });
        });
  });
}

void SessionImpl::StatFsWithQuota(Op op, v1::StatFsResponse fs) {
  // statvfs is served only once Describe answered (RunExtension).
  if (!caps_.usage()) return SendStatFs(op, fs);
  backend_->Usage(
      v1::UsageRequest(),
      [this, op = std::move(op), fs = std::move(fs)](
          const grpc::Status& status, v1::UsageResponse& usage) mutable {
        if (!status.ok()) return replier_.Result(op, status);
        const UserLimits& quota = options_.quota;
        if (quota.quota_bytes > 0) {
          const uint64_t blocks = quota.quota_bytes / kQuotaBlock;
          const uint64_t used = (usage.bytes() + kQuotaBlock - 1) / kQuotaBlock;
          const uint64_t free = blocks - std::min(blocks, used);
          fs.set_block_size(kQuotaBlock);
          fs.set_fragment_size(kQuotaBlock);
          fs.set_blocks(blocks);
          fs.set_blocks_free(free);
          fs.set_blocks_available(free);
        }
        if (quota.quota_files > 0) {
          const uint64_t free =
              quota.quota_files - std::min(quota.quota_files, usage.files());
          fs.set_files(quota.quota_files);
          fs.set_files_free(free);
          fs.set_files_available(free);
        }
        SendStatFs(op, fs);
      });
}

}  // namespace sftpgate::server::sftp
