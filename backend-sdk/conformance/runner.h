// Runs the registered checks against one backend and reports them:
//
//   PASS describe.succeeds
//   FAIL errors.missing_path.stat: expected NOT_FOUND from Stat(/x), got OK
//   SKIP symlinks.readlink: capability not claimed (symlinks)
//   ...
//   57 passed, 1 failed, 4 skipped
//
// Every check runs in its own scratch directory beneath
// "<base>/conformance-<random>", which is removed afterwards. A check that
// throws is reported as a failure; every backend call carries a deadline,
// so no check can hang.

#ifndef SFTPGATE_TESTS_CONFORMANCE_RUNNER_H_
#define SFTPGATE_TESTS_CONFORMANCE_RUNNER_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "registry.h"

namespace sftpgate::conformance {

struct RunOptions {
  // gRPC target of the backend, e.g. "127.0.0.1:7000".
  std::string target;
  // Existing directory (in the backend's "/" view) that receives the run's
  // scratch directory.
  std::string base = "/";
  // ECMAScript regular expression; only checks whose name contains a match
  // run. Empty: all.
  std::string filter;
  // Deadline of every single backend call.
  absl::Duration timeout = absl::Seconds(10);
  // Most time one check may take (its calls fail DEADLINE_EXCEEDED after).
  absl::Duration check_timeout = absl::Minutes(5);
};

// Runs the checks of `registry` that match options.filter, writing one line
// per check and a summary to `out`. Returns the exit code: 0 when no check
// failed, 1 otherwise (including when the backend cannot be reached or the
// filter is not a valid expression).
int RunSuite(const RunOptions& options, const Registry& registry,
             std::ostream& out);

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_RUNNER_H_
