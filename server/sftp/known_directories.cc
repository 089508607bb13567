#include "server/sftp/known_directories.h"

namespace sftpgate::server::sftp {

void KnownDirectories::Add(absl::string_view path, Clock::time_point now) {
  if (capacity_ == 0) return;
  auto it = seen_.find(path);
  if (it != seen_.end()) {
    it->second = now;
    return;
  }
  // Full: start over rather than track ages (the entries live a second).
  if (seen_.size() >= capacity_) seen_.clear();
  seen_.emplace(path, now);
}

bool KnownDirectories::Contains(absl::string_view path,
                                Clock::time_point now) const {
  auto it = seen_.find(path);
  return it != seen_.end() && now - it->second < ttl_;
}

}  // namespace sftpgate::server::sftp
