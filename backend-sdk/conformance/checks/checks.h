// One registration function per area of the contract; each lives in
// checks/<area>.cc and adds that area's checks, named "<area>.<what>".

#ifndef SFTPGATE_TESTS_CONFORMANCE_CHECKS_CHECKS_H_
#define SFTPGATE_TESTS_CONFORMANCE_CHECKS_CHECKS_H_

#include "registry.h"

namespace sftpgate::conformance {

void RegisterDescribeChecks(Registry& registry);     // describe.cc
void RegisterAttributeChecks(Registry& registry);    // attributes.cc
void RegisterErrorChecks(Registry& registry);        // errors.cc
void RegisterListingChecks(Registry& registry);      // listing.cc
void RegisterReadChecks(Registry& registry);         // read.cc
void RegisterWriteChecks(Registry& registry);        // write.cc
void RegisterRenameChecks(Registry& registry);       // rename.cc
void RegisterDirectoryChecks(Registry& registry);    // directories.cc
void RegisterSessionChecks(Registry& registry);      // sessions.cc
void RegisterSymlinkChecks(Registry& registry);      // symlinks.cc
void RegisterOptionalChecks(Registry& registry);     // optional.cc
void RegisterHashChecks(Registry& registry);         // hash.cc
void RegisterConcurrencyChecks(Registry& registry);  // concurrency.cc

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_CHECKS_CHECKS_H_
