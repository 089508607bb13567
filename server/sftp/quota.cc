// Per-user quotas (SftpSessionOptions::quota: quota_bytes, quota_files),
// against the usage the backend reports (the optional Usage call,
// Describe.usage).
//
//  - OPEN for writing asks Usage. A new file past quota_files is refused;
//    otherwise the handle gets an allowance: the size its file may reach,
//    quota_bytes minus what the user's other files hold (the file being
//    replaced or extended does not count against itself).
//  - Every WRITE (and copy-data chunk) is checked against the allowance
//    before it is queued. The one that would pass it fails, and so does
//    the upload for good: its stream is cancelled, the backend discards
//    it, CLOSE reports "quota exceeded" and nothing of it is committed.
//  - statvfs shows the quota as the size and the usage as used.
//
// The check is per upload against the usage at its OPEN: uploads of one
// user running at the same time may together pass the quota by at most
// what they add concurrently. A backend that cannot report usage gets no
// uploads from users with a quota (failing open, not unlimited).

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/common/metrics.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

// statvfs units when showing a byte quota.
constexpr uint64_t kQuotaBlock = 1024;

Counter* QuotaExceeded(const char* kind) {
  return Metrics::Global().GetCounter(
      "sftpgate_quota_exceeded_total",
      "Uploads refused for the user's quota, by kind: bytes, files",
      {{"kind", kind}});
}

}  // namespace

void SessionImpl::OpenWithinQuota(Op op, std::string path, uint32_t pflags,
                                  v1::Attributes attrs, bool exists,
                                  uint64_t old_size) {
  if (!caps_.usage()) {
    return SendStatus(op, kFxFailure,
                      "quota exceeded (the backend reports no usage)");
  }
  backend_->Usage(
      v1::UsageRequest(),
      [this, op = std::move(op), path = std::move(path), pflags,
       attrs = std::move(attrs), exists,
       old_size](const grpc::Status& status, v1::UsageResponse& usage) mutable {
        if (!status.ok()) return SendResult(op, status);
        const UserLimits& quota = options_.quota;
        if (!exists && quota.quota_files > 0 &&
            usage.files() >= quota.quota_files) {
          QuotaExceeded("files")->Increment();
          LogEvent(LogLevel::kWarning, "quota_exceeded",
                   {{"session", options_.session.session_id()},
                    {"user", options_.session.user()},
                    {"path", path},
                    {"kind", "files"},
                    {"quota", absl::StrCat(quota.quota_files)}});
          return SendStatus(op, kFxFailure, "quota exceeded (files)");
        }
        QuotaAllowance allowance;
        allowance.append = (pflags & kFxfAppend) != 0;
        allowance.size = exists && !(pflags & kFxfTrunc) ? old_size : 0;
        allowance.max_size = std::numeric_limits<uint64_t>::max();
        if (quota.quota_bytes > 0) {
          const uint64_t others =
              usage.bytes() - std::min(usage.bytes(), exists ? old_size : 0);
          allowance.max_size =
              quota.quota_bytes > others ? quota.quota_bytes - others : 0;
        }
        FinishOpen(std::move(op), std::move(path), pflags, std::move(attrs),
                   exists, allowance);
      });
}

bool SessionImpl::WithinQuota(Handle* h, uint64_t offset, size_t n) {
  if (!h->quota.has_value()) return true;
  QuotaAllowance& allowance = *h->quota;
  const uint64_t end = allowance.append ? allowance.size + n : offset + n;
  if (end <= allowance.max_size) {
    allowance.size = std::max(allowance.size, end);
    return true;
  }
  QuotaExceeded("bytes")->Increment();
  LogEvent(LogLevel::kWarning, "quota_exceeded",
           {{"session", options_.session.session_id()},
            {"user", options_.session.user()},
            {"path", h->path},
            {"kind", "bytes"},
            {"quota", absl::StrCat(options_.quota.quota_bytes)}});
  h->upload->Abort(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                std::string(kQuotaExceededMessage)));
  return false;
}

void SessionImpl::StatFsWithQuota(Op op, v1::StatFsResponse fs) {
  if (!caps_.usage()) return SendStatFs(op, fs);
  backend_->Usage(
      v1::UsageRequest(),
      [this, op = std::move(op), fs = std::move(fs)](
          const grpc::Status& status, v1::UsageResponse& usage) mutable {
        if (!status.ok()) return SendResult(op, status);
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
