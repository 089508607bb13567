#include "sftpgate/command_line.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sftpgate {
namespace {

constexpr size_t kHelpWidth = 79;
constexpr char kHelpIndent[] = "      ";

// Abseil's own flags (--flagfile, --fromenv, ...) are neither listed nor
// accepted: only the program's.
bool IsOwnFlag(const absl::CommandLineFlag& flag) {
  return !flag.IsRetired() && !absl::StrContains(flag.Filename(), "absl/");
}

absl::CommandLineFlag* FindOwnFlag(absl::string_view canonical_name) {
  absl::CommandLineFlag* flag = absl::FindCommandLineFlag(canonical_name);
  return flag != nullptr && IsOwnFlag(*flag) ? flag : nullptr;
}

// The spelling the docs use: --chunk-size.
std::string DashedName(absl::string_view name) {
  std::string dashed(name);
  std::replace(dashed.begin(), dashed.end(), '_', '-');
  return dashed;
}

std::string DefaultText(const absl::CommandLineFlag& flag) {
  std::string value = flag.DefaultValue();
  if (flag.IsOfType<std::string>()) return absl::StrCat("\"", value, "\"");
  return value.empty() ? "none" : value;
}

// Appends `text` word-wrapped, each line indented by kHelpIndent.
void AppendWrapped(absl::string_view text, std::string* out) {
  std::string line;
  for (absl::string_view word :
       absl::StrSplit(text, ' ', absl::SkipWhitespace())) {
    if (!line.empty() &&
        sizeof(kHelpIndent) - 1 + line.size() + 1 + word.size() > kHelpWidth) {
      absl::StrAppend(out, kHelpIndent, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(out, kHelpIndent, line, "\n");
}

bool IsHelpFlag(absl::string_view name) {
  return name == "help" || name == "h" || name == "helpfull" ||
         name == "helpshort";
}

}  // namespace

std::string CanonicalFlagName(absl::string_view name) {
  std::string canonical(name);
  std::replace(canonical.begin(), canonical.end(), '-', '_');
  return canonical;
}

std::string ProgramName(int argc, char** argv) {
  if (argc < 1 || argv[0] == nullptr || argv[0][0] == '\0') return "sftpgate";
  absl::string_view path = argv[0];
  return std::string(path.substr(path.rfind('/') + 1));
}

std::string HelpText(const ProgramInfo& program) {
  std::vector<const absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (IsOwnFlag(*flag)) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  std::string out(absl::StripSuffix(program.usage, "\n"));
  absl::StrAppend(&out,
                  "\n\nFlags (names take '-' or '_' alike; --flag=value or "
                  "--flag value):\n");
  for (const absl::CommandLineFlag* flag : flags) {
    absl::StrAppend(&out, "  --", DashedName(flag->Name()),
                    " (default: ", DefaultText(*flag), ")\n");
    AppendWrapped(flag->Help(), &out);
  }
  absl::StrAppend(&out, "  --help\n");
  AppendWrapped("Print this help and exit.", &out);
  absl::StrAppend(&out, "  --version\n");
  AppendWrapped("Print the version and exit.", &out);
  return out;
}

void ExitWithUsageError(const ProgramInfo& program, absl::string_view message) {
  std::cerr << program.name << ": " << message << "\nRun '" << program.name
            << " --help' for the flags.\n";
  std::exit(kExitUsage);
}

void ExitIfHelpOrVersionRequested(int argc, char** argv,
                                  const ProgramInfo& program) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") return;
    if (arg.size() < 2 || arg[0] != '-') continue;
    const std::string name =
        CanonicalFlagName(absl::StripPrefix(arg.substr(1), "-"));
    if (IsHelpFlag(name)) {
      std::cout << HelpText(program);
      std::exit(0);
    }
    if (name == "version") {
      std::cout << program.name << " " << kSftpgateVersion << "\n";
      std::exit(0);
    }
  }
}

std::vector<std::string> ParseCommandLineOrExit(int argc, char** argv,
                                                const ProgramInfo& program) {
  ExitIfHelpOrVersionRequested(argc, argv, program);
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") {
      positional.insert(positional.end(), argv + i + 1, argv + argc);
      break;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional.emplace_back(arg);
      continue;
    }
    absl::string_view body = absl::StripPrefix(arg.substr(1), "-");
    std::optional<absl::string_view> value;
    if (size_t eq = body.find('='); eq != absl::string_view::npos) {
      value = body.substr(eq + 1);
      body = body.substr(0, eq);
    }
    const std::string name = CanonicalFlagName(body);
    absl::CommandLineFlag* flag = FindOwnFlag(name);
    std::string text;
    if (flag == nullptr) {
      // --noNAME turns a boolean NAME off.
      absl::string_view negated = name;
      if (!value.has_value() && absl::ConsumePrefix(&negated, "no")) {
        flag = FindOwnFlag(negated);
      }
      if (flag == nullptr || !flag->IsOfType<bool>()) {
        ExitWithUsageError(program,
                           absl::StrCat("unknown flag --", DashedName(body)));
      }
      text = "false";
    } else if (value.has_value()) {
      text = std::string(*value);
    } else if (flag->IsOfType<bool>()) {
      text = "true";
    } else if (i + 1 < argc) {
      text = argv[++i];
    } else {
      ExitWithUsageError(
          program, absl::StrCat("--", DashedName(name), " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(text, &error)) {
      ExitWithUsageError(program,
                         absl::StrCat("bad value \"", text, "\" for --",
                                      DashedName(flag->Name()), ": ", error));
    }
  }
  return positional;
}

}  // namespace sftpgate
