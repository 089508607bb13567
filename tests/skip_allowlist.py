"""The one list of skips a CI run may take: tests/skip-allowlist.txt.

A skip that depends on the environment (not root, a tool missing, a
variable that selects nothing) hides a failure on the machine that cares.
Under CI=true every skip must be listed in skip-allowlist.txt with its
reason; an unlisted one fails the run.

File format: one entry per line, `PATTERN  REASON` (REASON required);
PATTERN is an fnmatch pattern over the skipped case's id (unittest:
module.Class.method; gtest: Suite.Name; scripts: their own name, e.g.
fuzz). Lines starting with # are comments.

Also a command for shell runners:
  skip_allowlist.py ID REASON   prints the verdict; exits 77 (skip) or 1
"""

import fnmatch
import os
import sys

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "skip-allowlist.txt")


def entries(path=PATH):
    """[(pattern, reason)] of the allow-list; a line without a reason is
    an error (the list exists to say why)."""
    out = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise ValueError(f"{path}:{number}: entry without a reason")
            out.append((parts[0], parts[1]))
    return out


def in_ci():
    return os.environ.get("CI", "").lower() == "true"


def verdict(skipped, skip_code):
    """`skipped`: [(id, reason)]. Prints them; returns skip_code, or 1
    under CI=true when one is not allow-listed."""
    allowed = entries()
    unlisted = []
    for test_id, reason in skipped:
        listed = any(fnmatch.fnmatchcase(test_id, p) for p, _ in allowed)
        print(f"SKIPPED {test_id}: {reason}"
              f"{' (allow-listed)' if listed else ''}", file=sys.stderr)
        if not listed:
            unlisted.append(test_id)
    if unlisted and in_ci():
        print(f"FAIL: CI=true and {len(unlisted)} skip(s) not in {PATH}: "
              f"{', '.join(unlisted)}", file=sys.stderr)
        return 1
    return skip_code


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: skip_allowlist.py ID REASON", file=sys.stderr)
        sys.exit(2)
    sys.exit(verdict([(sys.argv[1], sys.argv[2])], 77))
