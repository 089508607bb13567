#include "registry.h"

#include <cstdlib>
#include <iostream>
#include <utility>

#include "checks/checks.h"

namespace sftpgate::conformance {

Requirement Claims(Capability capability, const std::string& name) {
  return {
      [capability](const v1::DescribeResponse& d) { return (d.*capability)(); },
      "capability not claimed (" + name + ")"};
}

Requirement DoesNotClaim(Capability capability, const std::string& name) {
  return {[capability](const v1::DescribeResponse& d) {
            return !(d.*capability)();
          },
          "capability claimed (" + name + ")"};
}

void Registry::Add(std::string name, CheckFn fn) {
  Add(std::move(name), {}, std::move(fn));
}

void Registry::Add(std::string name, std::vector<Requirement> requirements,
                   CheckFn fn) {
  for (const Check& check : checks_) {
    if (check.name == name) {
      // A programming error in the suite itself, caught by any run.
      std::cerr << "duplicate check name " << name << "\n";
      std::abort();
    }
  }
  checks_.push_back({std::move(name), std::move(requirements), std::move(fn)});
}

Registry AllChecks() {
  Registry registry;
  RegisterDescribeChecks(registry);
  RegisterAttributeChecks(registry);
  RegisterErrorChecks(registry);
  RegisterListingChecks(registry);
  RegisterReadChecks(registry);
  RegisterWriteChecks(registry);
  RegisterRenameChecks(registry);
  RegisterDirectoryChecks(registry);
  RegisterSessionChecks(registry);
  RegisterSymlinkChecks(registry);
  RegisterOptionalChecks(registry);
  RegisterHashChecks(registry);
  RegisterConcurrencyChecks(registry);
  return registry;
}

}  // namespace sftpgate::conformance
