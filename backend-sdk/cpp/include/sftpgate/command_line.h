// One command line for every sftpgate program (the front end, the C++
// backends, sftpgate-conformance), so that they all behave alike:
//
//  - flag names take '-' or '_' alike: --chunk-size == --chunk_size;
//  - values come as --name=value or --name value; a boolean flag also as
//    --name (true) or --noname (false); "--" ends the flags;
//  - --help (also -h, --helpfull, --helpshort) prints the program's usage and
//    its own flags with their defaults on stdout and exits 0;
//  - --version prints "PROGRAM VERSION" and exits 0;
//  - an unknown flag, a bad value or a missing value is printed on stderr,
//    with a pointer to --help, and exits with kExitUsage (2).
//
// Flags are ordinary ABSL_FLAGs defined anywhere in the program; every one
// not defined by Abseil itself is listed and accepted.
//
// Thread safety: call from main() before starting threads.

#ifndef SFTPGATE_COMMAND_LINE_H_
#define SFTPGATE_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sftpgate {

// The exit status of every sftpgate program for a usage or configuration
// error (a restart would not fix it; systemd units do not restart on it).
inline constexpr int kExitUsage = 2;

// The version every sftpgate program reports.
inline constexpr char kSftpgateVersion[] = "0.1.0";

// What --help and error messages say about the program.
struct ProgramInfo {
  // The program's name, e.g. "sftpgate-memory-backend".
  std::string name;
  // Printed first by --help: what the program does and its usage lines.
  std::string usage;
};

// The base name of argv[0] ("sftpgate" when there is none).
std::string ProgramName(int argc, char** argv);

// Prints the help or the version and exits 0 when argv[1..argc) asks for
// either (before any "--"), whatever else it holds: whoever asks for help
// gets it, even with a mistake elsewhere on the line. Otherwise returns.
void ExitIfHelpOrVersionRequested(int argc, char** argv,
                                  const ProgramInfo& program);

// Parses argv[1..argc) against the program's flags (see above) and sets
// them. Returns the positional arguments, in order. Never returns on
// --help, --version (ExitIfHelpOrVersionRequested, called first) or an
// error.
std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv,
                                                const ProgramInfo& program);

// Prints "NAME: message" and a pointer to --help on stderr, then exits with
// kExitUsage.
[[noreturn]] void ExitWithUsageError(const ProgramInfo& program,
                                     absl::string_view message);

// The usage text --help prints: `program.usage`, then every flag of the
// program (sorted, dashed names) with its default and help text.
std::string HelpText(const ProgramInfo& program);

// `name` with every '-' turned into '_', the spelling ABSL_FLAG names use:
// CanonicalFlagName("host-key") == "host_key".
std::string CanonicalFlagName(absl::string_view name);

}  // namespace sftpgate

#endif  // SFTPGATE_COMMAND_LINE_H_
