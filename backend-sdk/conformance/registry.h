// The registry of named conformance checks. Each area (checks/*.cc) adds
// its checks with a Register*Checks function (checks/checks.h); the runner
// runs them in registration order.
//
// Thread safety: build the registry once, before running; afterwards it is
// read-only.

#ifndef SFTPGATE_TESTS_CONFORMANCE_REGISTRY_H_
#define SFTPGATE_TESTS_CONFORMANCE_REGISTRY_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "fixture.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::conformance {

// Returns OK (pass), Skip(...) or a failure; see expect.h.
using CheckFn = std::function<absl::Status(Fixture&)>;

// A condition on Describe under which a check is meaningful; when it does
// not hold the check is skipped with `skip_reason`.
struct Requirement {
  std::function<bool(const v1::DescribeResponse&)> holds;
  std::string skip_reason;
};

// A pointer to one of DescribeResponse's boolean capability getters.
using Capability = bool (v1::DescribeResponse::*)() const;

// The check needs the capability claimed / not claimed in Describe.
Requirement Claims(Capability capability, const std::string& name);
Requirement DoesNotClaim(Capability capability, const std::string& name);

struct Check {
  std::string name;  // "area.what", unique
  std::vector<Requirement> requirements;
  CheckFn fn;
};

class Registry {
 public:
  void Add(std::string name, CheckFn fn);
  void Add(std::string name, std::vector<Requirement> requirements, CheckFn fn);
  const std::vector<Check>& checks() const { return checks_; }

 private:
  std::vector<Check> checks_;
};

// A registry holding every check of the suite.
Registry AllChecks();

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_REGISTRY_H_
