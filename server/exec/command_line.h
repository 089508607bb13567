// SplitCommandLine: turns the command of an SSH "exec" request into
// words, the way a POSIX shell would for the few constructs that clients
// send (scp, rclone's probes, md5sum with quoted paths), and refuses
// everything else. Nothing is ever run by a shell: the words go to the
// allow-list in exec_command.h.
//
// Accepted: words separated by blanks; '...' (literal); "..." (where a
// backslash escapes only $ ` " and itself); a backslash outside quotes escaping
// the next character; $NAME and ${NAME} outside single quotes, which
// expand to nothing (sftpgate has no environment to give a command:
// every variable is unset, which is what rclone's shell probe relies on).
// Refused with INVALID_ARGUMENT: any unquoted shell operator or
// expansion (; & | < > ( ) ` $( ${x...} with operators, * ? [ ] { } ~ #
// at a word start, a newline), unterminated quotes, NUL, and lines longer
// than kMaxCommandLine.
//
// Thread safety: pure function.

#ifndef SFTPGATE_SERVER_EXEC_COMMAND_LINE_H_
#define SFTPGATE_SERVER_EXEC_COMMAND_LINE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server::exec {

inline constexpr size_t kMaxCommandLine = 64 * 1024;

struct CommandLine {
  std::vector<std::string> words;
  // A $NAME or ${NAME} was expanded (to nothing).
  bool expanded_variables = false;
};

absl::StatusOr<CommandLine> SplitCommandLine(absl::string_view line);

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_COMMAND_LINE_H_
