// The control records of the legacy SCP protocol (OpenSSH scp.c, the "rcp"
// protocol), which both sides exchange between file bodies:
//
//   C<mode> <size> <name>\n   a file of <size> bytes follows
//   D<mode> 0 <name>\n        a directory begins (then its entries, then E)
//   E\n                       the current directory ends
//   T<mtime> 0 <atime> 0\n    times for the next C or D record (-p)
//   \0                        OK (after each record and each file body)
//   \1<message>\n             error; the transfer goes on
//   \2<message>\n             fatal error
//
// Thread safety: pure functions.

#ifndef SFTPGATE_SERVER_EXEC_SCP_PROTOCOL_H_
#define SFTPGATE_SERVER_EXEC_SCP_PROTOCOL_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server::exec {

// Longest control record accepted (OpenSSH's buffer is 2048 bytes).
inline constexpr size_t kMaxScpRecord = 2048;

struct ScpEntryRecord {
  bool directory = false;  // D (else C)
  uint32_t mode = 0;       // permission bits (07777)
  uint64_t size = 0;
  std::string name;  // one path component: no '/', not "." or ".."
};

struct ScpTimesRecord {
  int64_t mtime = 0;
  int64_t atime = 0;
};

// Parses a C or D record (`line` without its '\n'). INVALID_ARGUMENT with
// OpenSSH's wording ("bad mode", "size not delimited", "unexpected
// filename: x") when malformed.
absl::StatusOr<ScpEntryRecord> ParseScpEntry(absl::string_view line);
// Parses a T record (without its '\n').
absl::StatusOr<ScpTimesRecord> ParseScpTimes(absl::string_view line);

// Records to send (each with its '\n').
std::string ScpEntryLine(const ScpEntryRecord& entry);
std::string ScpTimesLine(int64_t mtime, int64_t atime);
// "\1scp: <message>\n" (fatal: "\2...").
std::string ScpErrorLine(absl::string_view message, bool fatal = false);

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_SCP_PROTOCOL_H_
