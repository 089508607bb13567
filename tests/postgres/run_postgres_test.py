#!/usr/bin/python3
"""Tests of sample-backends/postgres-python against a throwaway cluster.

    run_postgres_test.py conformance   the conformance suite passes
    run_postgres_test.py concurrency   two backend processes on one
                                       database, many racing clients: the
                                       contract's answers and the tables
                                       stay consistent
    run_postgres_test.py sftp          OpenSSH sftp through bin/sftpgate:
                                       put/get a 256 MiB file by checksum,
                                       ls, mkdir, rename, rm (key and
                                       password logins)

Each part starts its own cluster (pg_cluster.py) and stops everything it
started at the end, whether it passed, failed or was interrupted.
"""

import hashlib
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import backend_harness as h  # noqa: E402
import pg_cluster  # noqa: E402


def start_backend(stack, dsn, name="postgres-backend"):
    proc = stack.spawn(name, [h.binary("sftpgate-postgres-backend"), "--listen",
                              "%s:0" % h.HOST, "--dsn", dsn])
    return proc, proc.wait_listening()


def part_conformance(stack):
    dsn = pg_cluster.start(stack)
    ok, results = h.run_conformance(
        [h.binary("sftpgate-postgres-backend"), "--listen", "{addr}", "--dsn", dsn])
    verdicts = list(results.values())
    h.log("postgres-backend: %d checks passed, %d failed, %d skipped"
          % (verdicts.count("PASS"), verdicts.count("FAIL"), verdicts.count("SKIP")))
    return ok


# ---------------------------------------------------------------- concurrency


class Client:
    """A gRPC client of the Backend service for one session."""

    def __init__(self, address, root="/race", user="racer"):
        import grpc
        from sftpgate_sdk.proto import pb, pb_grpc
        self.grpc, self.pb = grpc, pb
        self.channel = grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", 8 << 20)])
        self.stub = pb_grpc.BackendStub(self.channel)
        self.session = pb.Session(session_id="race-%s" % id(self), user=user, root=root)

    def code(self, method, **fields):
        """Calls a unary method; returns the status code name ("OK"...)."""
        request_type = getattr(self.pb, method + "Request")
        if "from_" in fields:
            fields["from"] = fields.pop("from_")
        try:
            getattr(self.stub, method)(request_type(session=self.session, **fields), timeout=60)
            return "OK"
        except self.grpc.RpcError as error:
            return error.code().name

    def upload(self, path, data, chunk=256 * 1024, flags=3):
        pb = self.pb

        def messages():
            yield pb.WriteRequest(session=self.session,
                                  header=pb.WriteHeader(path=path, flags=flags))
            for offset in range(0, len(data), chunk):
                yield pb.WriteRequest(chunk=pb.WriteChunk(offset=offset,
                                                          data=data[offset:offset + chunk]))
            yield pb.WriteRequest(commit=pb.WriteCommit())
        try:
            return self.stub.Write(messages(), timeout=120).committed_size
        except self.grpc.RpcError as error:
            return error.code().name

    def read(self, path):
        """The whole file, or the status code name if the read failed."""
        try:
            return b"".join(c.data for c in self.stub.Read(
                self.pb.ReadRequest(session=self.session, path=path), timeout=120))
        except self.grpc.RpcError as error:
            return error.code().name

    def names(self, path):
        return sorted(e.name for batch in self.stub.ListDir(
            self.pb.ListDirRequest(session=self.session, path=path), timeout=60)
            for e in batch.entries)


def race(workers):
    """Runs the callables at once (released together); returns results."""
    results = [None] * len(workers)
    barrier = threading.Barrier(len(workers))

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except Exception as error:  # pylint: disable=broad-except
            results[i] = error
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return results


class Checker:
    def __init__(self):
        self.failures = []

    def check(self, condition, message):
        h.log(("ok    " if condition else "FAIL  ") + message)
        if not condition:
            self.failures.append(message)


def part_concurrency(stack):
    os.environ.update(h.python_env())
    sys.path[:0] = os.environ["PYTHONPATH"].split(os.pathsep)
    dsn = pg_cluster.start(stack)
    _, first = start_backend(stack, dsn, "postgres-backend-1")
    _, second = start_backend(stack, dsn, "postgres-backend-2")
    clients = [Client(first if i % 2 else second) for i in range(8)]
    c = Checker()
    a = clients[0]

    # Same-name creations: exactly one wins, across both processes.
    results = race([lambda cl=cl: cl.code("MakeDir", path="/same") for cl in clients])
    c.check(sorted(results) == ["ALREADY_EXISTS"] * 7 + ["OK"],
            "8 racing MakeDir of one name: one OK, 7 ALREADY_EXISTS (%s)" % results)

    # Racing uploads to one path: the result is exactly one of them.
    payloads = [bytes([i]) * (600 * 1024 + i) for i in range(8)]
    results = race([lambda cl=cl, p=p: cl.upload("/same/file", p)
                    for cl, p in zip(clients, payloads)])
    c.check(all(r == len(p) for r, p in zip(results, payloads)),
            "8 racing uploads to one path all commit (%s)" % results)
    final = a.read("/same/file")
    c.check(final in payloads, "the file holds exactly one upload, whole (%s bytes)"
            % (len(final) if isinstance(final, bytes) else final))

    # Readers during overwrites see a whole old or new version, or an error.
    a.upload("/rw", payloads[0])

    def overwrite():
        for i in range(6):
            clients[1].upload("/rw", payloads[i % 8])
        return "done"
    reads = race([overwrite] + [lambda cl=cl: [cl.read("/rw") for _ in range(4)]
                                for cl in clients[2:5]])
    seen = [r for batch in reads[1:] for r in batch]
    c.check(all(r in payloads or r in ("NOT_FOUND",) for r in seen),
            "reads during overwrites never mix versions (%d reads)" % len(seen))

    # Renames crossing each other: nothing lost, nothing duplicated.
    for i in range(6):
        a.code("MakeDir", path="/d%d" % i)
        a.upload("/d%d/f" % i, b"file %d" % i)

    def shuffle(cl, k):
        codes = []
        for j in range(10):
            src, dst = (k + j) % 6, (k + j + 1) % 6
            codes.append(cl.code("Rename", from_="/d%d/f" % src, to="/d%d/g%d.%d" % (dst, k, j)))
            codes.append(cl.code("Rename", from_="/d%d/g%d.%d" % (dst, k, j),
                                 to="/d%d/f" % dst, overwrite=True))
        return codes
    results = race([lambda cl=cl, k=k: shuffle(cl, k) for k, cl in enumerate(clients)])
    allowed = {"OK", "NOT_FOUND", "ALREADY_EXISTS"}
    c.check(all(isinstance(r, list) and set(r) <= allowed for r in results),
            "racing renames answer only OK/NOT_FOUND/ALREADY_EXISTS")
    files = [(d, n) for d in range(6) for n in a.names("/d%d" % d)]
    contents = sorted(a.read("/d%d/%s" % (d, n)) for d, n in files)
    c.check(all(isinstance(x, bytes) for x in contents) and
            len(contents) == len(set(contents)) and
            set(contents) <= {b"file %d" % i for i in range(6)},
            "after racing renames every file is whole and none is duplicated (%d left)"
            % len(contents))

    # Directory moves that would make a cycle if both won.
    for path in ("/x", "/x/a", "/y", "/y/b"):
        a.code("MakeDir", path=path)
    cycle_results = []
    for _ in range(10):
        results = race([lambda: clients[1].code("Rename", from_="/x", to="/y/b/x"),
                        lambda: clients[2].code("Rename", from_="/y", to="/x/a/y")])
        cycle_results.append(results)
        # Put things back for the next round, whichever won.
        for src, dst in (("/y/b/x", "/x"), ("/x/a/y", "/y")):
            a.code("Rename", from_=src, to=dst)
    c.check(all(r.count("OK") <= 1 for r in cycle_results),
            "crossing directory moves never both succeed (%s)" % cycle_results[:3])

    # Creating in a directory while it is being removed.
    def creators(cl, k):
        return [cl.upload("/doomed/f%d.%d" % (k, j), b"x") for j in range(5)]
    a.code("MakeDir", path="/doomed")
    results = race([lambda: [clients[1].code("RemoveDir", path="/doomed") for _ in range(20)]] +
                   [lambda cl=cl, k=k: creators(cl, k) for k, cl in enumerate(clients[2:6])])
    c.check(all(not isinstance(r, Exception) for r in results),
            "rmdir racing creations: no call raised")

    c.check(_table_invariants(dsn, c), "tables consistent after the races")
    for client in clients:
        client.channel.close()
    if c.failures:
        h.log("%d concurrency checks failed" % len(c.failures))
    return not c.failures


def _table_invariants(dsn, c):
    """Every inode reachable from the top exactly once (dirs) and every
    row accounted for: no orphan inode, no chunk past a file's size, no
    cycle."""
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT value FROM sftpgate_meta WHERE key = 'top'")
            top = cur.fetchone()[0]
            cur.execute("""
                WITH RECURSIVE reach(id, depth) AS (
                  SELECT %s::bigint, 0
                  UNION ALL
                  SELECT d.inode, r.depth + 1 FROM sftpgate_dirents d
                  JOIN reach r ON d.parent = r.id WHERE r.depth < 200)
                SELECT count(*), count(DISTINCT id), max(depth) FROM reach""", (top,))
            reached, distinct, depth = cur.fetchone()
            cur.execute("SELECT count(*) FROM sftpgate_inodes")
            inodes = cur.fetchone()[0]
            cur.execute("""SELECT count(*) FROM sftpgate_chunks ch
                           JOIN sftpgate_inodes i ON i.id = ch.inode
                           WHERE ch.idx * 262144 + length(ch.data) > i.size""")
            overhang = cur.fetchone()[0]
    finally:
        conn.close()
    c.check(depth < 200, "no directory cycle (depth %s)" % depth)
    c.check(reached == distinct == inodes,
            "every inode reachable exactly once: %s reached, %s distinct, %s rows"
            % (reached, distinct, inodes))
    c.check(overhang == 0, "no chunk holds bytes past its file's size (%s)" % overhang)
    return depth < 200 and reached == distinct == inodes and overhang == 0


# ----------------------------------------------------------------------- sftp

BIG_SIZE = 256 * 1024 * 1024


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _ls_sizes(text):
    """{basename: size} from `ls -l` lines of OpenSSH sftp."""
    sizes = {}
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 9 and re.match(r"^[-dl][-rwxsStT]{9}", fields[0]):
            sizes[os.path.basename(fields[-1])] = int(fields[4])
    return sizes


def part_sftp(stack):
    gate = h.binary("sftpgate")
    dsn = pg_cluster.start(stack)
    _, backend_address = start_backend(stack, dsn)

    key = os.path.join(stack.tmp, "alice_key")
    proc = h.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "alice@pgtest",
                  "-f", key])
    if proc.returncode != 0:
        raise RuntimeError("ssh-keygen failed: %s" % proc.stderr)
    with open(key + ".pub") as f:
        public_key = f.read().strip()
    password = "pg-test-pw-%d" % os.getpid()
    hashed = h.run([gate, "hash-password"], input_text=password + "\n").stdout.strip()
    if not hashed.startswith("$"):
        raise RuntimeError("sftpgate hash-password printed %r" % hashed)
    users = os.path.join(stack.tmp, "users.toml")
    with open(users, "w") as f:
        f.write('[[user]]\nname = "alice"\npassword_hash = "%s"\n'
                'authorized_keys = ["%s"]\nroot = "/alice"\n' % (hashed, public_key))
    front = stack.spawn("sftpgate", [gate, "--listen", "%s:0" % h.HOST,
                                     "--backend", backend_address,
                                     "--host-key", os.path.join(stack.tmp, "host_key"),
                                     "--users", users])
    port = int(front.wait_log(h.GATE_LISTENING).group(1))

    big = os.path.join(stack.tmp, "big.bin")
    with open(big, "wb") as f:
        for _ in range(BIG_SIZE // (1 << 20)):
            f.write(os.urandom(1 << 20))
    want = _sha256(big)
    back = os.path.join(stack.tmp, "back.bin")
    batch = os.path.join(stack.tmp, "batch")
    with open(batch, "w") as f:
        f.write("\n".join([
            "mkdir upload", "put %s upload/big.bin" % big, "ls -l upload",
            "rename upload/big.bin upload/renamed.bin", "ls -l upload",
            "get upload/renamed.bin %s" % back, "rm upload/renamed.bin",
            "rmdir upload", "ls -l", ""]))
    options = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=20", "-F", "/dev/null",
               "-P", str(port)]
    c = Checker()
    started = time.monotonic()
    proc = h.run(["sftp"] + options + ["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                                       "-o", "PreferredAuthentications=publickey", "-i", key,
                                       "-b", batch, "alice@%s" % h.HOST], timeout=1200)
    elapsed = time.monotonic() - started
    print(proc.stdout + proc.stderr, flush=True)
    c.check(proc.returncode == 0, "sftp batch (key login) exits 0 (%d)" % proc.returncode)
    listings = proc.stdout.split("sftp> ls -l")
    first = _ls_sizes(listings[1]) if len(listings) > 1 else {}
    second = _ls_sizes(listings[2]) if len(listings) > 2 else {}
    last = _ls_sizes(listings[3]) if len(listings) > 3 else {"?": 0}
    c.check(first.get("big.bin") == BIG_SIZE, "ls after put shows big.bin, %d bytes (%s)"
            % (BIG_SIZE, first))
    c.check("renamed.bin" in second and "big.bin" not in second,
            "ls after rename shows only renamed.bin (%s)" % second)
    c.check(os.path.exists(back) and _sha256(back) == want,
            "the 256 MiB file came back with the same SHA-256")
    c.check("upload" not in last, "rm + rmdir leave no upload dir (%s)" % last)
    h.log("sftp batch with 256 MiB put + get took %.1fs" % elapsed)

    # The database gave the space back: no chunk rows are left.
    import psycopg2
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM sftpgate_chunks")
            chunks = cur.fetchone()[0]
    finally:
        conn.close()
    c.check(chunks == 0, "no chunk rows remain after rm (%d)" % chunks)

    # A password login (sshpass) sees the same, confined tree.
    proc = h.run(["sshpass", "-e", "sftp"] + options +
                 ["-o", "BatchMode=no", "-o", "PubkeyAuthentication=no",
                  "-o", "PreferredAuthentications=password,keyboard-interactive",
                  "-b", "-", "alice@%s" % h.HOST],
                 input_text="mkdir viapassword\nls\ncd /..\nls\nrmdir viapassword\n",
                 env={"SSHPASS": password}, timeout=120)
    print(proc.stdout + proc.stderr, flush=True)
    c.check(proc.returncode == 0 and "viapassword" in proc.stdout,
            "password login (sshpass) works and sees its own tree")
    c.check(front.popen.poll() is None, "sftpgate still running")
    return not c.failures


PARTS = {"conformance": part_conformance, "concurrency": part_concurrency, "sftp": part_sftp}


if __name__ == "__main__":
    sys.exit(h.run_part("postgres", PARTS, sys.argv))
