#include "server/sftp/long_name.h"

#include <time.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sftpgate::server::sftp {
namespace {

char TypeChar(uint32_t mode) {
  switch (mode & 0170000) {
    case 0040000:
      return 'd';
    case 0120000:
      return 'l';
    case 0020000:
      return 'c';
    case 0060000:
      return 'b';
    case 0010000:
      return 'p';
    case 0140000:
      return 's';
    default:
      return '-';
  }
}

// One rwx triple; `special` is setuid/setgid/sticky for this triple and
// `marks` its letter when executable (lower) or not (upper).
void PutTriple(uint32_t bits, bool special, char mark, char* out) {
  out[0] = (bits & 4) ? 'r' : '-';
  out[1] = (bits & 2) ? 'w' : '-';
  const bool exec = bits & 1;
  if (special) {
    out[2] = exec ? mark : static_cast<char>(mark - 'a' + 'A');
  } else {
    out[2] = exec ? 'x' : '-';
  }
}

std::string DateColumn(int64_t mtime, int64_t now) {
  const time_t t = static_cast<time_t>(mtime);
  struct tm tm_local;
  if (localtime_r(&t, &tm_local) == nullptr) return "";
  constexpr int64_t kSixMonths = (365 * 24 * 60 * 60) / 2;
  const bool recent = now - kSixMonths < mtime && now >= mtime;
  char buf[32];
  const size_t n = strftime(buf, sizeof buf,
                            recent ? "%b %e %H:%M" : "%b %e  %Y", &tm_local);
  return std::string(buf, n);
}

std::string IdColumn(const std::string& name, absl::string_view session_user,
                     bool has_id, uint32_t id) {
  if (!name.empty()) return name;
  if (!session_user.empty()) return std::string(session_user);
  return has_id ? absl::StrCat(id) : "?";
}

}  // namespace

std::string ModeString(uint32_t mode) {
  std::string s(10, '-');
  s[0] = TypeChar(mode);
  PutTriple((mode >> 6) & 7, mode & 04000, 's', &s[1]);
  PutTriple((mode >> 3) & 7, mode & 02000, 's', &s[4]);
  PutTriple(mode & 7, mode & 01000, 't', &s[7]);
  return s;
}

std::string FormatLongName(absl::string_view name, const v1::Attributes& attrs,
                           int64_t now, absl::string_view session_user) {
  const std::string owner =
      IdColumn(attrs.owner(), session_user, attrs.has_uid(), attrs.uid());
  const std::string group =
      IdColumn(attrs.group(), session_user, attrs.has_gid(), attrs.gid());
  const int owner_width = std::max<int>(owner.size(), 8);
  const int group_width = std::max<int>(group.size(), 8);
  // strmode(3) yields 11 characters: the mode column and a space.
  return absl::StrFormat(
      "%s  %3u %-*s %-*s %8u %s %s", ModeString(attrs.mode()),
      std::max<uint32_t>(attrs.nlink(), 1), owner_width, owner, group_width,
      group, attrs.size(), DateColumn(attrs.mtime(), now), name);
}

}  // namespace sftpgate::server::sftp
