#include "server/exec/scp_protocol.h"

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sftpgate::server::exec {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads decimal digits at the front of *s into *value.
bool TakeNumber(absl::string_view* s, uint64_t* value) {
  size_t n = 0;
  while (n < s->size() && IsDigit((*s)[n])) ++n;
  if (n == 0 || n > 20) return false;
  if (!absl::SimpleAtoi(s->substr(0, n), value)) return false;
  s->remove_prefix(n);
  return true;
}

bool TakeChar(absl::string_view* s, char c) {
  if (s->empty() || s->front() != c) return false;
  s->remove_prefix(1);
  return true;
}

}  // namespace

absl::StatusOr<ScpEntryRecord> ParseScpEntry(absl::string_view line) {
  ScpEntryRecord entry;
  if (line.empty() || (line[0] != 'C' && line[0] != 'D')) {
    return absl::InvalidArgumentError("expected control record");
  }
  entry.directory = line[0] == 'D';
  absl::string_view rest = line.substr(1);
  // Exactly four octal digits, as OpenSSH's sink requires.
  if (rest.size() < 5) return absl::InvalidArgumentError("bad mode");
  for (int i = 0; i < 4; ++i) {
    if (rest[i] < '0' || rest[i] > '7') {
      return absl::InvalidArgumentError("bad mode");
    }
    entry.mode = entry.mode * 8 + (rest[i] - '0');
  }
  rest.remove_prefix(4);
  if (!TakeChar(&rest, ' '))
    return absl::InvalidArgumentError("mode not delimited");
  if (!TakeNumber(&rest, &entry.size) ||
      entry.size > uint64_t{std::numeric_limits<int64_t>::max()}) {
    return absl::InvalidArgumentError("size out of range");
  }
  if (!TakeChar(&rest, ' '))
    return absl::InvalidArgumentError("size not delimited");
  if (rest.empty() || rest == "." || rest == ".." ||
      rest.find('/') != absl::string_view::npos ||
      rest.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected filename: ", rest));
  }
  entry.name = std::string(rest);
  return entry;
}

absl::StatusOr<ScpTimesRecord> ParseScpTimes(absl::string_view line) {
  ScpTimesRecord times;
  absl::string_view rest = line;
  uint64_t mtime = 0, mtime_usec = 0, atime = 0, atime_usec = 0;
  if (!TakeChar(&rest, 'T') || !TakeNumber(&rest, &mtime) ||
      !TakeChar(&rest, ' ') || !TakeNumber(&rest, &mtime_usec) ||
      !TakeChar(&rest, ' ') || !TakeNumber(&rest, &atime) ||
      !TakeChar(&rest, ' ') || !TakeNumber(&rest, &atime_usec) ||
      !rest.empty() || mtime_usec > 999999 || atime_usec > 999999 ||
      mtime > uint64_t{std::numeric_limits<int64_t>::max()} ||
      atime > uint64_t{std::numeric_limits<int64_t>::max()}) {
    return absl::InvalidArgumentError("mtime.sec not delimited");
  }
  times.mtime = static_cast<int64_t>(mtime);
  times.atime = static_cast<int64_t>(atime);
  return times;
}

std::string ScpEntryLine(const ScpEntryRecord& entry) {
  return absl::StrFormat("%c%04o %d %s\n", entry.directory ? 'D' : 'C',
                         entry.mode & 07777, entry.directory ? 0 : entry.size,
                         entry.name);
}

std::string ScpTimesLine(int64_t mtime, int64_t atime) {
  return absl::StrFormat("T%d 0 %d 0\n", mtime < 0 ? 0 : mtime,
                         atime < 0 ? 0 : atime);
}

std::string ScpErrorLine(absl::string_view message, bool fatal) {
  // A newline inside would end the record early on the client.
  std::string text = absl::StrCat("scp: ", message);
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return absl::StrCat(fatal ? "\2" : "\1", text, "\n");
}

}  // namespace sftpgate::server::exec
