#include "server/sftp/quota_ledger.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace sftpgate::server::sftp {

QuotaLedger::Mark QuotaLedger::Now() const {
  absl::MutexLock lock(&mu_);
  return committed_;
}

std::optional<QuotaLedger::Upload> QuotaLedger::Begin(const UserLimits& quota,
                                                      const Usage& usage,
                                                      uint64_t old_size,
                                                      bool new_file) {
  absl::MutexLock lock(&mu_);
  if (new_file && quota.quota_files > 0) {
    const uint64_t files = usage.files + (committed_.files - usage.mark.files) +
                           live_new_files_ + 1;
    if (files > quota.quota_files) return std::nullopt;
  }
  Upload upload;
  upload.id = next_id_++;
  upload.usage = usage;
  upload.old_size = old_size;
  upload.new_file = new_file;
  live_[upload.id].new_file = new_file;
  if (new_file) ++live_new_files_;
  return upload;
}

bool QuotaLedger::Grow(const UserLimits& quota, const Upload& upload,
                       uint64_t end) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(upload.id);
  if (it == live_.end()) return false;  // ended: nothing may be added
  Live& live = it->second;
  const uint64_t growth = end > upload.old_size ? end - upload.old_size : 0;
  if (growth <= live.growth) return true;  // within what it holds already
  if (quota.quota_bytes > 0) {
    const uint64_t others =
        upload.usage.bytes - std::min(upload.usage.bytes, upload.old_size);
    const uint64_t total = others +
                           (committed_.bytes - upload.usage.mark.bytes) +
                           (live_growth_ - live.growth) + end;
    if (total > quota.quota_bytes) return false;
  }
  live_growth_ += growth - live.growth;
  live.growth = growth;
  return true;
}

void QuotaLedger::End(const Upload& upload, bool committed) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(upload.id);
  if (it == live_.end()) return;
  const Live live = it->second;
  live_.erase(it);
  live_growth_ -= live.growth;
  if (live.new_file) --live_new_files_;
  if (committed) {
    committed_.bytes += live.growth;
    if (live.new_file) ++committed_.files;
  }
}

size_t QuotaLedger::uploads() const {
  absl::MutexLock lock(&mu_);
  return live_.size();
}

std::shared_ptr<QuotaLedger> QuotaLedgers::For(const std::string& user,
                                               const std::string& root) {
  absl::MutexLock lock(&mu_);
  // Forget users none of whose sessions is left.
  std::vector<std::string> gone;
  for (const auto& [name, ledger] : users_) {
    if (ledger.expired()) gone.push_back(name);
  }
  for (const std::string& name : gone) users_.erase(name);
  // A NUL cannot occur in a user name or a root.
  std::weak_ptr<QuotaLedger>& slot = users_[absl::StrCat(user, "\0", root)];
  std::shared_ptr<QuotaLedger> ledger = slot.lock();
  if (ledger == nullptr) {
    ledger = std::make_shared<QuotaLedger>();
    slot = ledger;
  }
  return ledger;
}

}  // namespace sftpgate::server::sftp
