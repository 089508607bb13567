// ParseExecCommand: the allow-list of commands an SSH "exec" request may
// run. Each is served inside sftpgate on the session's backend; there is
// no shell and no program is started. Anything not listed here is refused
// (the exec request gets a failure reply), exactly as before exec existed.
//
//   scp -t [-r] [-p] [-d] [-v] [--] TARGET     legacy SCP sink (upload)
//   scp -f [-r] [-p] [-d] [-v] [--] PATH...    legacy SCP source (download)
//   md5sum|sha1sum|sha256sum [--] [PATH...]    coreutils-compatible digests
//                                              (no PATH or "-": stdin)
//   echo [-n] [WORD...]                        prints the words (rclone's
//                                              shell-type probe)
//
// Variables ($X, ${X}) expand to nothing, and only `echo` may use them
// (rclone's probe "echo ${ShellId}%ComSpec%" must print "%ComSpec%", as a
// Unix shell does); anywhere else they would silently change a path.
//
// Thread safety: pure function.

#ifndef SFTPGATE_SERVER_EXEC_EXEC_COMMAND_H_
#define SFTPGATE_SERVER_EXEC_EXEC_COMMAND_H_

#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::exec {

struct EchoCommand {
  std::vector<std::string> words;
  bool newline = true;  // false with -n
};

struct ChecksumCommand {
  std::string program;  // "md5sum", ... (error messages start with it)
  v1::HashAlgorithm algorithm = v1::HASH_ALGORITHM_UNSPECIFIED;
  // As given; "-" is standard input. Never empty (no operand means "-").
  std::vector<std::string> paths;
};

struct ScpCommand {
  bool sink = false;        // -t: the client uploads to us
  bool recursive = false;   // -r
  bool preserve = false;    // -p: times and modes
  bool target_dir = false;  // -d: the target must be a directory
  // -t: exactly one target; -f: one or more sources.
  std::vector<std::string> paths;
};

using ExecCommand = std::variant<EchoCommand, ChecksumCommand, ScpCommand>;

// INVALID_ARGUMENT (with a message fit for the log and the client's
// stderr) for anything outside the allow-list.
absl::StatusOr<ExecCommand> ParseExecCommand(absl::string_view line);

// "scp", "md5sum", ... for logs and metrics.
absl::string_view ExecCommandName(const ExecCommand& command);

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_EXEC_COMMAND_H_
