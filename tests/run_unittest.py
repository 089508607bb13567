"""Runs Python unittest modules for ctest, so that a skip is not a pass.

Usage: run_unittest.py MODULE... (from the modules' folder)

Exit status (ctest entries declare SKIP_RETURN_CODE 77):
  0   every collected case ran and passed
  1   a case failed or errored, no case was collected at all, or (under
      CI=true) a case was skipped without an entry in
      tests/skip-allowlist.txt
  77  everything else passed but some case was skipped
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skip_allowlist  # noqa: E402 (tests/skip_allowlist.py)

SKIP_CODE = 77


def main(modules):
    if not modules:
        print("usage: run_unittest.py MODULE...", file=sys.stderr)
        return 2
    sys.path.insert(0, os.getcwd())
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.testsRun == 0:
        print("FAIL: no test was collected", file=sys.stderr)
        return 1
    if not result.skipped:
        return 0
    return skip_allowlist.verdict(
        [(test.id(), reason) for test, reason in result.skipped],
        SKIP_CODE)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
