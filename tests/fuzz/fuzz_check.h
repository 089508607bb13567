// FUZZ_CHECK: an invariant of the code under test. A violation prints what
// failed and aborts, which libFuzzer reports as a crash (and saves the
// input); the replay driver's ctest fails the same way.
//
// Thread safety: fuzz targets run one input at a time.

#ifndef SFTPGATE_TESTS_FUZZ_FUZZ_CHECK_H_
#define SFTPGATE_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                               \
  do {                                                                 \
    if (!(cond)) {                                                     \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #cond);                                   \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // SFTPGATE_TESTS_FUZZ_FUZZ_CHECK_H_
