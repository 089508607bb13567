// RecentStat: the answer to the STAT or LSTAT a session just made, kept
// for the STAT or LSTAT of the same path that comes right after it.
//
// OpenSSH's sftp asks LSTAT (its glob) and then STAT (the download) of
// every file it gets; for a file that is not a symbolic link the second
// answer is the first one again, and asking the backend twice made small
// downloads cost a backend round trip more than they need. The session
// forgets the answer on any other request (SessionImpl::HandlePacket), on
// a failed STAT and after `ttl`, so it only ever answers the very next
// request, a moment later: a change another session made in that moment
// could as well have come just after the second request.
//
// An LSTAT answer of anything but a link answers STAT and LSTAT; a STAT
// answer (which followed links) answers only STAT.
//
// Thread safety: not thread-safe (one session's loop thread).

#ifndef SFTPGATE_SERVER_SFTP_RECENT_STAT_H_
#define SFTPGATE_SERVER_SFTP_RECENT_STAT_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

class RecentStat {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RecentStat(Clock::duration ttl) : ttl_(ttl) {}

  // Changes at every Forget(): what a request in flight since then learns
  // may predate a request that came meanwhile.
  uint64_t generation() const { return generation_; }
  // The backend answered a STAT (`followed`) or LSTAT of `path` with
  // `attrs` at `now`, asked at `asked_in` (generation() then); ignored
  // when another request came since.
  void Remember(absl::string_view path, bool followed,
                const v1::Attributes& attrs, Clock::time_point now,
                uint64_t asked_in);
  // The remembered attributes when they answer a STAT (`follow`) or LSTAT
  // of `path` at `now`; nullptr otherwise. Valid until the next call.
  const v1::Attributes* Find(absl::string_view path, bool follow,
                             Clock::time_point now) const;
  void Forget() {
    entry_.reset();
    ++generation_;
  }

 private:
  struct Entry {
    std::string path;
    bool answers_stat = false;
    bool answers_lstat = false;
    v1::Attributes attrs;
    Clock::time_point at;
  };
  const Clock::duration ttl_;
  std::optional<Entry> entry_;
  uint64_t generation_ = 0;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_RECENT_STAT_H_
