#include "server/sftp/recent_stat.h"

namespace sftpgate::server::sftp {
namespace {

bool IsSymlink(const v1::Attributes& attrs) {
  constexpr uint32_t kTypeMask = 0170000, kSymlink = 0120000;
  return attrs.has_mode() && (attrs.mode() & kTypeMask) == kSymlink;
}

}  // namespace

void RecentStat::Remember(absl::string_view path, bool followed,
                          const v1::Attributes& attrs, Clock::time_point now,
                          uint64_t asked_in) {
  if (asked_in != generation_) return;
  // An LSTAT answer without a file type cannot be told from a link's.
  const bool plain = attrs.has_mode() && !IsSymlink(attrs);
  entry_ = Entry{std::string(path), /*answers_stat=*/followed || plain,
                 /*answers_lstat=*/!followed, attrs, now};
}

const v1::Attributes* RecentStat::Find(absl::string_view path, bool follow,
                                       Clock::time_point now) const {
  if (!entry_.has_value() || entry_->path != path) return nullptr;
  if (now - entry_->at >= ttl_ || now < entry_->at) return nullptr;
  if (!(follow ? entry_->answers_stat : entry_->answers_lstat)) return nullptr;
  return &entry_->attrs;
}

}  // namespace sftpgate::server::sftp
