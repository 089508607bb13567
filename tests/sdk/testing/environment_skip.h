// SFTPGATE_ENVIRONMENT_SKIP(reason): skips the current gtest case for a
// reason that depends on the machine (not root, cannot mount, a tool
// missing). Under CI=true such a skip fails the case instead, unless its
// id (Suite.Name) matches an entry of tests/skip-allowlist.txt (format:
// tests/skip_allowlist.py): a CI run must not pass by skipping.

#ifndef SFTPGATE_TESTS_SDK_TESTING_ENVIRONMENT_SKIP_H_
#define SFTPGATE_TESTS_SDK_TESTING_ENVIRONMENT_SKIP_H_

#include <string>

#include "gtest/gtest.h"

namespace sftpgate::testing {

// Whether the running gtest case may be skipped here: always outside CI,
// under CI=true only when tests/skip-allowlist.txt lists its id.
bool EnvironmentSkipAllowed();

}  // namespace sftpgate::testing

#define SFTPGATE_ENVIRONMENT_SKIP(reason)               \
  if (!::sftpgate::testing::EnvironmentSkipAllowed()) { \
    GTEST_FAIL() << "CI=true: environment skip not in " \
                    "tests/skip-allowlist.txt: "        \
                 << (reason);                           \
  } else                                                \
    GTEST_SKIP() << (reason)

#endif  // SFTPGATE_TESTS_SDK_TESTING_ENVIRONMENT_SKIP_H_
