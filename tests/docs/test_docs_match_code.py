"""The reference tables of docs/operations.md list what the code has.

- Logs: every event the front end logs (each `LogEvent(level, "name", ...)`
  under server/) has a row in the event table, and every row is an event
  the front end logs.
- Users file: the table lists every key the users-file parser knows.
- README: its users-file example, placeholders and all, is refused with
  messages that say what to paste instead.
- Backends: the flag table of the C++ SDK backends lists exactly the flags
  `--help` of sftpgate-localfs-backend and sftpgate-memory-backend prints,
  with the same defaults.
"""

import glob
import os
import re
import subprocess
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN_DIR = os.environ.get("SFTPGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
OPERATIONS = os.path.join(REPO, "docs", "operations.md")


def read(path):
    with open(path) as f:
        return f.read()


def table_after(text, heading_pattern):
    """Rows (lists of cells) of the first Markdown table after the first
    line matching `heading_pattern`."""
    m = re.search(heading_pattern, text, re.M)
    if m is None:
        raise AssertionError(f"operations.md: nothing matches "
                             f"{heading_pattern!r}")
    rows = []
    for line in text[m.start():].splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]  # past the header and the |---| line


def logged_events():
    """{event: [file:line, ...]} of the LogEvent calls under server/."""
    events = {}
    for path in sorted(glob.glob(os.path.join(REPO, "server", "**", "*.cc"),
                                 recursive=True)):
        source = read(path)
        for call in re.finditer(r"\bLogEvent\(", source):
            if source[:call.start()].endswith("void "):
                continue  # the definition
            m = re.match(r"LogEvent\(\s*[^,]+?,\s*\"([a-z_]+)\"",
                         source[call.start():], re.S)
            where = (f"{os.path.relpath(path, REPO)}:"
                     f"{source.count(chr(10), 0, call.start()) + 1}")
            if m is None:
                raise AssertionError(f"{where}: LogEvent with an event "
                                     "name that is not a string literal")
            events.setdefault(m.group(1), []).append(where)
    return events


def help_flags(binary):
    """{flag: default} from `binary --help` (which must exit 0)."""
    proc = subprocess.run([os.path.join(BIN_DIR, binary), "--help"],
                          capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise AssertionError(f"{binary} --help exited {proc.returncode}: "
                             f"{proc.stderr}")
    flags = dict(re.findall(r"^  --([\w-]+) \(default: (.*)\)$",
                            proc.stdout, re.M))
    return flags


class DocsMatchCodeTest(unittest.TestCase):
    maxDiff = None

    def test_event_table_lists_every_logged_event(self):
        documented = set()
        for row in table_after(read(OPERATIONS), r"^\| event \| level \|"):
            documented.update(re.findall(r"`([a-z_]+)`", row[0]))
        events = logged_events()
        self.assertGreater(len(events), 20)
        missing = {e: where for e, where in events.items()
                   if e not in documented}
        self.assertEqual(missing, {}, "logged but not in the event table")
        self.assertEqual(sorted(documented - set(events)), [],
                         "in the event table but never logged")

    def test_users_table_lists_every_key(self):
        users_cc = read(os.path.join(REPO, "server", "config", "users.cc"))
        m = re.search(r"\(known: ([a-z_, \"\n]+)\)", users_cc)
        self.assertIsNotNone(m, "users.cc names its known keys")
        known = set(re.findall(r"[a-z_]+", m.group(1)))
        self.assertIn("tenant", known)
        rows = table_after(read(OPERATIONS), r"^### Users file")
        documented = {re.sub(r"`", "", row[0]) for row in rows}
        self.assertEqual(known, documented)

    def test_backend_flag_table_matches_help(self):
        rows = table_after(read(OPERATIONS), r"^### Backends")
        documented = {}  # flag -> (default, only-for backend or None)
        for row in rows:
            m = re.fullmatch(r"`--([\w-]+)`(?: \((\w+) only\))?", row[0])
            self.assertIsNotNone(m, f"backend table row {row}")
            documented[m.group(1)] = (row[1].strip("`"), m.group(2))
        for backend in ("localfs", "memory"):
            with self.subTest(backend=backend):
                flags = help_flags(f"sftpgate-{backend}-backend")
                expected = {name: default for name, (default, only)
                            in documented.items()
                            if only in (None, backend)}
                # An empty default is "required" where the table says so.
                shown = {name: ("required" if default == '""' and
                                expected.get(name) == "required" else default)
                         for name, default in flags.items()}
                self.assertEqual(expected, shown)

    def test_readme_placeholders_are_refused_with_directions(self):
        readme = read(os.path.join(REPO, "README.md"))
        m = re.search(r"The users file lists who may log in.*?```toml\n(.*?)```",
                      readme, re.S)
        self.assertIsNotNone(m, "README has its users-file example")
        example = m.group(1)
        with tempfile.TemporaryDirectory() as tmp:
            users = os.path.join(tmp, "users.toml")

            def start(text):
                with open(users, "w") as f:
                    f.write(text)
                return subprocess.run(
                    [os.path.join(BIN_DIR, "sftpgate"), "--listen",
                     "127.0.0.1:0", "--backend", "127.0.0.1:1", "--host-key",
                     os.path.join(tmp, "host_key"), "--users", users],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True,
                    timeout=60)

            # The parser reads keys in name order: the key comes first.
            proc = start(example)
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("authorized_keys[0] is a placeholder", proc.stderr)
            self.assertIn("cat ~/.ssh/id_ed25519.pub", proc.stderr)
            key = os.path.join(tmp, "id")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                            "-f", key], check=True, timeout=60)
            with open(key + ".pub") as f:
                real_key = f.read().strip()
            proc = start(re.sub(r'authorized_keys = \["[^"]*"\]',
                                f'authorized_keys = ["{real_key}"]', example))
            self.assertEqual(proc.returncode, 2, proc.stderr)
            self.assertIn("password_hash is a placeholder", proc.stderr)
            self.assertIn("`sftpgate hash-password` prints", proc.stderr)

if __name__ == "__main__":
    unittest.main()
