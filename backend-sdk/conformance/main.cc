// sftpgate-conformance: checks any running backend against the
// sftpgate.v1 contract, over gRPC only.
//
//   sftpgate-conformance --target 127.0.0.1:7000 [--root /scratch]
//       [--filter REGEX] [--timeout-ms N] [--check-timeout-ms N] [--list]
//
// Prints PASS/FAIL/SKIP per check and a summary; exits 1 if any check
// failed. See docs/conformance.md.

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "registry.h"
#include "runner.h"
#include "sftpgate/command_line.h"

ABSL_FLAG(std::string, target, "", "gRPC address of the backend (host:port)");
ABSL_FLAG(std::string, root, "/",
          "existing directory in the backend that receives the scratch "
          "directory conformance-<random>");
ABSL_FLAG(std::string, filter, "",
          "run only checks whose name matches this regular expression");
ABSL_FLAG(int, timeout_ms, 10000, "deadline of every backend call, ms");
ABSL_FLAG(int, check_timeout_ms, 300000,
          "most time one check may take, ms (its calls then fail)");
ABSL_FLAG(bool, list, false, "print the check names and exit");

namespace {

constexpr char kUsage[] =
    "usage: sftpgate-conformance --target HOST:PORT [--root /DIR] "
    "[--filter REGEX] [--timeout-ms N] [--check-timeout-ms N] [--list]";

}  // namespace

int main(int argc, char** argv) {
  const sftpgate::ProgramInfo program{
      "sftpgate-conformance",
      absl::StrCat("Checks a running sftpgate backend against the v1 "
                   "contract.\n\n",
                   kUsage)};
  std::vector<std::string> rest =
      sftpgate::ParseCommandLineOrExit(argc, argv, program);
  if (!rest.empty()) {
    sftpgate::ExitWithUsageError(
        program, absl::StrCat("unexpected argument \"", rest[0], "\""));
  }

  const sftpgate::conformance::Registry registry =
      sftpgate::conformance::AllChecks();
  if (absl::GetFlag(FLAGS_list)) {
    for (const auto& check : registry.checks()) std::cout << check.name << "\n";
    return 0;
  }
  sftpgate::conformance::RunOptions options;
  options.target = absl::GetFlag(FLAGS_target);
  options.base = absl::GetFlag(FLAGS_root);
  options.filter = absl::GetFlag(FLAGS_filter);
  options.timeout = absl::Milliseconds(absl::GetFlag(FLAGS_timeout_ms));
  options.check_timeout =
      absl::Milliseconds(absl::GetFlag(FLAGS_check_timeout_ms));
  if (options.target.empty() || options.base.empty() ||
      options.base[0] != '/' || absl::GetFlag(FLAGS_timeout_ms) <= 0 ||
      absl::GetFlag(FLAGS_check_timeout_ms) <= 0) {
    sftpgate::ExitWithUsageError(
        program, "need --target, an absolute --root and positive timeouts");
  }
  // Trailing "/" on --root would make "//" paths, which are not normalized.
  while (options.base.size() > 1 && options.base.back() == '/') {
    options.base.pop_back();
  }
  return sftpgate::conformance::RunSuite(options, registry, std::cout);
}
