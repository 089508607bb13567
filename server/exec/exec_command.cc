#include "server/exec/exec_command.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/exec/command_line.h"

namespace sftpgate::server::exec {
namespace {

struct ChecksumProgram {
  absl::string_view name;
  v1::HashAlgorithm algorithm;
};

constexpr ChecksumProgram kChecksumPrograms[] = {
    {"md5sum", v1::HASH_MD5},
    {"sha1sum", v1::HASH_SHA1},
    {"sha256sum", v1::HASH_SHA256},
};

absl::StatusOr<ExecCommand> ParseEcho(std::vector<std::string> words) {
  EchoCommand echo;
  size_t i = 1;
  if (i < words.size() && words[i] == "-n") {
    echo.newline = false;
    ++i;
  }
  for (; i < words.size(); ++i) {
    // Shells disagree on backslash escapes in echo (dash interprets them,
    // bash does not): refuse rather than guess.
    if (absl::StrContains(words[i], '\\')) {
      return absl::InvalidArgumentError("echo: backslashes are not supported");
    }
    echo.words.push_back(std::move(words[i]));
  }
  return echo;
}

absl::StatusOr<ExecCommand> ParseChecksum(const ChecksumProgram& program,
                                          std::vector<std::string> words) {
  ChecksumCommand command;
  command.program = std::string(program.name);
  command.algorithm = program.algorithm;
  bool options_done = false;
  for (size_t i = 1; i < words.size(); ++i) {
    std::string& w = words[i];
    if (!options_done && w == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && w.size() > 1 && w[0] == '-') {
      return absl::InvalidArgumentError(
          absl::StrCat(program.name, ": option ", w, " is not supported"));
    }
    command.paths.push_back(std::move(w));
  }
  if (command.paths.empty()) command.paths.push_back("-");
  return command;
}

absl::StatusOr<ExecCommand> ParseScp(std::vector<std::string> words) {
  ScpCommand command;
  bool to = false;
  bool from = false;
  size_t i = 1;
  for (; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") {
      ++i;
      break;
    }
    if (w.size() < 2 || w[0] != '-') break;
    for (size_t j = 1; j < w.size(); ++j) {
      switch (w[j]) {
        case 't':
          to = true;
          break;
        case 'f':
          from = true;
          break;
        case 'r':
          command.recursive = true;
          break;
        case 'p':
          command.preserve = true;
          break;
        case 'd':
          command.target_dir = true;
          break;
        case 'v':  // the client's verbosity; nothing to do here
          break;
        default:
          return absl::InvalidArgumentError(absl::StrCat(
              "scp: option -", std::string(1, w[j]), " is not supported"));
      }
    }
  }
  if (to == from) {
    return absl::InvalidArgumentError("scp: exactly one of -t and -f needed");
  }
  command.sink = to;
  for (; i < words.size(); ++i) command.paths.push_back(std::move(words[i]));
  if (command.paths.empty() || (command.sink && command.paths.size() != 1)) {
    return absl::InvalidArgumentError(command.sink ? "scp: -t takes one target"
                                                   : "scp: -f needs a source");
  }
  return command;
}

}  // namespace

absl::StatusOr<ExecCommand> ParseExecCommand(absl::string_view line) {
  absl::StatusOr<CommandLine> split = SplitCommandLine(line);
  if (!split.ok()) return split.status();
  std::vector<std::string>& words = split->words;
  if (words.empty()) return absl::InvalidArgumentError("empty command");
  const std::string& program = words[0];
  if (program == "echo") return ParseEcho(std::move(words));
  if (split->expanded_variables) {
    return absl::InvalidArgumentError(
        absl::StrCat(program, ": variables are not supported"));
  }
  if (program == "scp") return ParseScp(std::move(words));
  for (const ChecksumProgram& p : kChecksumPrograms) {
    if (program == p.name) return ParseChecksum(p, std::move(words));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(program, ": command not allowed"));
}

absl::string_view ExecCommandName(const ExecCommand& command) {
  if (std::holds_alternative<EchoCommand>(command)) return "echo";
  if (std::holds_alternative<ScpCommand>(command)) return "scp";
  return std::get<ChecksumCommand>(command).program;
}

}  // namespace sftpgate::server::exec
