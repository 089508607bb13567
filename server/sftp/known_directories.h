// KnownDirectories: directories this session saw exist very recently, so
// that OPEN of a new file can skip asking the backend about its parent
// (a `put -r` of many files into one directory then costs one backend
// call per OPEN instead of two).
//
// Only a shortcut for a check that is racy anyway: another session may
// remove a directory right after any Stat. When a remembered directory is
// gone, the upload's Write stream fails and the client gets the error on
// its WRITE or CLOSE instead of its OPEN; nothing wrong is ever committed.
// Entries expire after `ttl`; the session forgets everything when it
// removes or renames anything itself.
//
// Thread safety: not thread-safe (one session's loop thread).

#ifndef SFTPGATE_SERVER_SFTP_KNOWN_DIRECTORIES_H_
#define SFTPGATE_SERVER_SFTP_KNOWN_DIRECTORIES_H_

#include <chrono>
#include <cstddef>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server::sftp {

class KnownDirectories {
 public:
  using Clock = std::chrono::steady_clock;

  KnownDirectories(Clock::duration ttl, size_t capacity)
      : ttl_(ttl), capacity_(capacity) {}

  // `path` was seen to be a directory at `now`.
  void Add(absl::string_view path, Clock::time_point now);
  // Whether `path` was seen to be a directory less than ttl before `now`.
  bool Contains(absl::string_view path, Clock::time_point now) const;
  void Clear() { seen_.clear(); }

 private:
  const Clock::duration ttl_;
  const size_t capacity_;
  absl::flat_hash_map<std::string, Clock::time_point> seen_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_KNOWN_DIRECTORIES_H_
