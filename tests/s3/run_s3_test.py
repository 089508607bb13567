#!/usr/bin/python3
"""Tests of sample-backends/s3 against a throwaway OpenStack Swift (s3api).

    run_s3_test.py backend   start-up checks (bad flags, unreachable
                             endpoint, wrong credentials, missing bucket,
                             credentials file/profile, secrets kept out of
                             logs) and the conformance suite
    run_s3_test.py clients   real clients through bin/sftpgate: OpenSSH
                             sftp (1 GiB round trip by checksum with the
                             backend's peak RSS measured, reget, reput),
                             scp, paramiko, rclone, lftp
    run_s3_test.py crash     a replica SIGKILLed mid-upload leaves no
                             object, and once restarted no pending upload of
                             its own; a second replica's live upload on the
                             same bucket survives that restart
    run_s3_test.py scaleout  HAProxy, two front ends, three replicas: 20 sessions
                             of mixed traffic while a replica is SIGKILLed
                             and restarted and a front end drains; gets and
                             listings never fail, every acknowledged upload
                             is in the bucket, none is half-visible

Each part starts its own Swift (swift_store.py) once and stops everything
it started at the end, whether it passed, failed or was interrupted. No
mock stands in for the store.
"""

import hashlib
import os
import re
import shutil
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import backend_harness as h  # noqa: E402
import swift_store  # noqa: E402

BUCKET = "sftpgate"
BIG_SIZE = int(os.environ.get("S3_TEST_BIG_MIB", "1024")) << 20
RSS_LIMIT = 64 << 20


class Checker:
    def __init__(self):
        self.failures = []

    def check(self, condition, message):
        h.log(("ok    " if condition else "FAIL  ") + message)
        if not condition:
            self.failures.append(message)
        return condition


def backend_args(store, *extra):
    return [h.binary("sftpgate-s3-backend"), "--endpoint", store.endpoint,
            "--bucket", BUCKET] + list(extra)


def start_backend(stack, store, name, *extra):
    proc = stack.spawn(name, backend_args(store, "--listen", "%s:0" % h.HOST, *extra),
                       env=store.env())
    return proc, proc.wait_listening()


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_random(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


# ------------------------------------------------------------------ backend


def part_backend(stack):
    store = swift_store.start(stack)
    store.create_bucket(BUCKET)
    c = Checker()
    secret = swift_store.SECRET_KEY
    home = os.path.join(stack.tmp, "home")
    os.makedirs(os.path.join(home, ".aws"))
    no_env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "HOME": home,
              "AWS_SHARED_CREDENTIALS_FILE": "", "AWS_PROFILE": ""}

    def refused(what, args, env, code, pattern):
        full = dict(os.environ)
        full.update(env)
        for name in [k for k, v in env.items() if v == ""]:
            full.pop(name, None)
        import subprocess
        proc = subprocess.run(args, capture_output=True, text=True, env=full, timeout=120,
                              stdin=subprocess.DEVNULL)
        lines = proc.stderr.strip().splitlines()
        c.check(proc.returncode == code and len(lines) == 1 and re.search(pattern, lines[0])
                and secret not in proc.stderr,
                "%s: exit %d and one line matching %r (got %d: %r)"
                % (what, code, pattern, proc.returncode, proc.stderr.strip()))

    listen = ["--listen", "%s:0" % h.HOST]
    refused("no --endpoint", [h.binary("sftpgate-s3-backend"), "--bucket", BUCKET] + listen,
            store.env(), 2, r"^error: --endpoint is required$")
    refused("bad --part_size_mb", backend_args(store, "--part_size_mb", "1") + listen,
            store.env(), 2, r"--part_size_mb must be 5\.\.5120")
    refused("bad --addressing", backend_args(store, "--addressing", "dns") + listen,
            store.env(), 2, r"--addressing must be")
    refused("endpoint not a URL",
            [h.binary("sftpgate-s3-backend"), "--endpoint", "s3.example.com/x",
             "--bucket", BUCKET] + listen, store.env(), 2, r"--endpoint must be an http")
    refused("unreachable endpoint",
            [h.binary("sftpgate-s3-backend"), "--endpoint",
             "http://%s:1" % h.HOST, "--bucket", BUCKET] + listen,
            store.env(), 1, r"^error: cannot reach the S3 endpoint")
    refused("wrong secret", backend_args(store) + listen,
            {"AWS_ACCESS_KEY_ID": swift_store.ACCESS_KEY,
             "AWS_SECRET_ACCESS_KEY": "not-the-secret"}, 1,
            r"^error: the store refused the credentials from environment")
    refused("missing bucket",
            [h.binary("sftpgate-s3-backend"), "--endpoint", store.endpoint,
             "--bucket", "no-such-bucket"] + listen, store.env(), 1,
            r"^error: bucket 'no-such-bucket' does not exist")
    refused("no credentials anywhere", backend_args(store) + listen, no_env, 1,
            r"^error: no credentials: AWS_ACCESS_KEY_ID is unset and .*cannot be read")
    with open(os.path.join(home, ".aws", "credentials"), "w") as f:
        f.write("[default]\naws_access_key_id = nobody\naws_secret_access_key = x\n\n"
                "[swift]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                % (swift_store.ACCESS_KEY, secret))
    refused("missing profile", backend_args(store, "--profile", "nope") + listen, no_env, 1,
            r"no profile \[nope\]")
    # The right profile from ~/.aws/credentials serves; nothing secret in its log.
    proc = stack.spawn("profile-backend", backend_args(store) + listen, env={
        "HOME": home, "AWS_PROFILE": "swift", "AWS_ACCESS_KEY_ID": "",
        "AWS_SECRET_ACCESS_KEY": ""})
    # Empty AWS_ACCESS_KEY_ID counts as unset for the backend.
    proc.wait_listening()
    log = proc.log_text()
    c.check("credentials from %s/.aws/credentials [swift]" % home in log,
            "credentials file and AWS_PROFILE are used (%s)" % log.splitlines()[0])
    with open("/proc/%d/cmdline" % proc.popen.pid, "rb") as f:
        cmdline = f.read()
    c.check(secret.encode() not in cmdline and secret not in log,
            "the secret is neither on the command line nor in the log")
    proc.stop()

    os.environ.update(store.env())
    # A real object store answers in milliseconds, not microseconds: the
    # 1500-entry listing check alone makes ~6000 requests.
    ok, results = h.run_conformance(backend_args(
        store, "--listen", "{addr}", "--prefix", "conformance/", "--replica_id",
        "conformance"), extra_args=["--check-timeout-ms", "900000"])
    verdicts = list(results.values())
    h.log("s3-backend: %d checks passed, %d failed, %d skipped"
          % (verdicts.count("PASS"), verdicts.count("FAIL"), verdicts.count("SKIP")))
    c.check(ok, "conformance suite passes")
    skipped = sorted(n for n, v in results.items() if v == "SKIP")
    c.check(all(re.match(r"(symlinks|hard_links|stat_fs|real_path|set_stat_no_follow|usage|hash)\.|"
                         r"write\.random_offsets$", n) for n in skipped),
            "only checks of capabilities S3 lacks are skipped (%d)" % len(skipped))
    pending = store.pending_uploads(BUCKET)
    c.check(pending == [], "no multipart upload is left pending (%s)" % pending)
    return not c.failures


# ------------------------------------------------------------------ clients


class Sftpgate:
    """bin/sftpgate with one user, alice (key login), rooted at /alice."""

    def __init__(self, stack, backend_address, name="sftpgate", extra=()):
        gate = h.binary("sftpgate")
        self.tmp = stack.tmp
        # Front ends of one service share the user's key, users file and
        # host key (created by the first).
        self.key = os.path.join(stack.tmp, "alice_key")
        users = os.path.join(stack.tmp, "users.toml")
        if not os.path.exists(users):
            proc = h.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key])
            if proc.returncode != 0:
                raise RuntimeError("ssh-keygen failed: %s" % proc.stderr)
            with open(self.key + ".pub") as f:
                public_key = f.read().strip()
            with open(users, "w") as f:
                f.write('[[user]]\nname = "alice"\nauthorized_keys = ["%s"]\n'
                        'root = "/alice"\n' % public_key)
        self.unix_path = None  # (a Balancer listens on a unix socket)
        self.proc = stack.spawn(name, [
            gate, "--listen", "%s:0" % h.HOST, "--backend", backend_address,
            "--host-key", os.path.join(stack.tmp, "host_key"), "--users", users]
            + list(extra))
        self.port = int(self.proc.wait_log(h.GATE_LISTENING).group(1))
        self.home = os.path.join(stack.tmp, "clienthome")
        os.makedirs(self.home, exist_ok=True)

    def ssh_options(self):
        return ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=60", "-F", "/dev/null",
                "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
                "-o", "PreferredAuthentications=publickey", "-i", self.key]

    def sftp(self, commands, timeout=1800):
        proc = h.run(["sftp"] + self.ssh_options() + ["-P", str(self.port), "-b", "-",
                                                      "alice@%s" % h.HOST],
                     input_text="\n".join(commands) + "\n", timeout=timeout,
                     cwd=self.tmp)
        print(proc.stdout + proc.stderr, flush=True)
        return proc

    def scp(self, *paths):
        args = ["scp"] + self.ssh_options() + ["-P", str(self.port)]
        args += ["alice@%s%s" % (h.HOST, p) if p.startswith(":") else p for p in paths]
        proc = h.run(args, timeout=600, cwd=self.tmp)
        print(proc.stdout + proc.stderr, flush=True)
        return proc

    def rclone(self, *args):
        remote = ":sftp,host=%s,port=%d,user=alice,key_file=%s,shell_type=none," \
                 "md5sum_command=none,sha1sum_command=none:" % (h.HOST, self.port, self.key)
        args = [a.replace("REMOTE:", remote) for a in args]
        proc = h.run(["rclone", "--config", "/dev/null", "--retries", "1",
                      "--low-level-retries", "1", "--contimeout", "60s", "--timeout", "300s"]
                     + args, env={"HOME": self.home,
                                  "XDG_CACHE_HOME": os.path.join(self.home, "cache")},
                     timeout=900, cwd=self.tmp)
        print(proc.stdout + proc.stderr, flush=True)
        return proc

    def lftp(self, commands):
        import shlex
        ssh = ["ssh", "-a", "-x"] + self.ssh_options()
        script = "; ".join([
            "set cmd:fail-exit yes", "set sftp:auto-confirm yes", "set net:max-retries 1",
            "set net:timeout 120", "set xfer:clobber yes",
            "set sftp:connect-program %s" % shlex.quote(shlex.join(ssh)),
            "open -u alice, sftp://%s:%d" % (h.HOST, self.port)] + commands)
        proc = h.run(["lftp", "-c", script], env={"HOME": self.home}, timeout=900,
                     cwd=self.tmp)
        print(proc.stdout + proc.stderr, flush=True)
        return proc

    def paramiko(self):
        import paramiko
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        sock = None
        if self.unix_path:
            import socket
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(self.unix_path)
        client.connect(hostname=h.HOST, port=self.port, username="alice",
                       key_filename=self.key, allow_agent=False, look_for_keys=False,
                       timeout=60, banner_timeout=60, auth_timeout=60, sock=sock)
        return client


def peak_rss(pid):
    """VmHWM of `pid` in bytes (the kernel's peak resident set size)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM for %d" % pid)


def part_clients(stack):
    store = swift_store.start(stack)
    store.create_bucket(BUCKET)
    s3 = store.boto3()
    backend, address = start_backend(stack, store, "s3-backend", "--prefix", "sftp/",
                                     "--replica_id", "clients")
    gate = Sftpgate(stack, address)
    c = Checker()
    tmp = stack.tmp

    # OpenSSH sftp: 1 GiB up and down by checksum, the backend's memory bounded.
    big = os.path.join(tmp, "big.bin")
    write_random(big, BIG_SIZE)
    want = sha256_file(big)
    rss_before = peak_rss(backend.popen.pid)
    started = time.monotonic()
    proc = gate.sftp(["mkdir up", "put big.bin up/big.bin"])
    up_seconds = time.monotonic() - started
    c.check(proc.returncode == 0, "sftp put of %d MiB exits 0" % (BIG_SIZE >> 20))
    head = s3.head_object(Bucket=BUCKET, Key="sftp/alice/up/big.bin")
    c.check(head["ContentLength"] == BIG_SIZE, "the object in the bucket has %d bytes"
            % BIG_SIZE)
    started = time.monotonic()
    proc = gate.sftp(["get up/big.bin back.bin"])
    down_seconds = time.monotonic() - started
    c.check(proc.returncode == 0 and sha256_file(os.path.join(tmp, "back.bin")) == want,
            "sftp get brings the %d MiB back with the same SHA-256" % (BIG_SIZE >> 20))
    rss = peak_rss(backend.popen.pid)
    h.log("1 GiB: put %.1fs (%.0f MiB/s), get %.1fs (%.0f MiB/s); backend peak RSS "
          "%.1f MiB (%.1f MiB before)" % (
              up_seconds, BIG_SIZE / up_seconds / 2**20, down_seconds,
              BIG_SIZE / down_seconds / 2**20, rss / 2**20, rss_before / 2**20))
    c.check(rss < RSS_LIMIT, "backend peak RSS %.1f MiB < 64 MiB" % (rss / 2**20))
    os.remove(os.path.join(tmp, "back.bin"))

    # reget: a partial local copy is completed from where it stops.
    with open(big, "rb") as src, open(os.path.join(tmp, "partial.bin"), "wb") as dst:
        dst.write(src.read(7 << 20))
    proc = gate.sftp(["reget up/big.bin partial.bin"])
    c.check(proc.returncode == 0 and sha256_file(os.path.join(tmp, "partial.bin")) == want,
            "reget completes a 7 MiB partial download by checksum")
    os.remove(os.path.join(tmp, "partial.bin"))
    os.remove(big)

    # reput: the remote part is copied server-side into the new upload (6 MiB
    # prefix: UploadPartCopy) or fetched into the first part (100 KiB prefix).
    for prefix_size, label in ((6 << 20, "6 MiB"), (100 << 10, "100 KiB")):
        whole = os.path.join(tmp, "whole.bin")
        write_random(whole, 13 << 20)
        with open(whole, "rb") as f:
            head_bytes = f.read(prefix_size)
        s3.put_object(Bucket=BUCKET, Key="sftp/alice/up/resumed.bin", Body=head_bytes)
        proc = gate.sftp(["reput whole.bin up/resumed.bin"])
        got = s3.get_object(Bucket=BUCKET, Key="sftp/alice/up/resumed.bin")["Body"].read()
        c.check(proc.returncode == 0 and hashlib.sha256(got).hexdigest() ==
                sha256_file(whole), "reput after a %s remote prefix gives the whole file"
                % label)

    # Directory rules, rename, listing, removal as a disk would have them.
    proc = gate.sftp(["mkdir up/sub", "rename up/resumed.bin up/sub/moved.bin",
                      "ls -l up/sub", "-rmdir up/sub", "rm up/sub/moved.bin",
                      "rmdir up/sub", "rm up/big.bin", "ls -l up", "rmdir up", "ls -la"])
    c.check(proc.returncode == 0 and "moved.bin" in proc.stdout,
            "mkdir, rename, ls, rm, rmdir in sftp")
    c.check(re.search(r'remote rmdir "/up/sub": Failure', proc.stdout + proc.stderr)
            is not None,
            "rmdir of a non-empty directory fails as on a disk")

    # scp both ways.
    small = os.path.join(tmp, "scp.bin")
    write_random(small, (3 << 20) + 12345)
    proc = gate.scp(small, ":scp.bin")
    proc2 = gate.scp(":scp.bin", os.path.join(tmp, "scp-back.bin"))
    c.check(proc.returncode == 0 and proc2.returncode == 0 and
            sha256_file(os.path.join(tmp, "scp-back.bin")) == sha256_file(small),
            "scp upload and download by checksum")

    # paramiko: attributes, append, a refused random write, rename, remove.
    client = gate.paramiko()
    try:
        sftp = client.open_sftp()
        sftp.mkdir("pm", 0o750)
        with sftp.open("pm/a.txt", "w") as f:
            f.write(b"hello ")
        with sftp.open("pm/a.txt", "a") as f:
            f.write(b"world")
        with sftp.open("pm/a.txt", "r") as f:
            c.check(f.read() == b"hello world", "paramiko write, append, read")
        sftp.chmod("pm/a.txt", 0o600)
        sftp.utime("pm/a.txt", (1500000000, 1600000000))
        st = sftp.stat("pm/a.txt")
        c.check(st.st_mode & 0o7777 == 0o600 and st.st_mtime == 1600000000 and
                st.st_size == 11, "chmod and utime are kept (mode %o, mtime %d)"
                % (st.st_mode & 0o7777, st.st_mtime))
        c.check(sftp.stat("pm").st_mode & 0o7777 == 0o750, "mkdir mode is kept")
        # (A gap within the front end's reorder window would fail only at
        # CLOSE, whose status paramiko ignores: jump past the window.)
        random_write_failed = False
        try:
            with sftp.open("pm/holes.bin", "w") as f:
                f.write(b"y")
                f.seek(64 << 20)
                f.write(b"x")
        except IOError:
            random_write_failed = True
        c.check(random_write_failed, "a non-sequential write fails cleanly")
        c.check("holes.bin" not in sftp.listdir("pm"),
                "the failed upload is not visible")
        sftp.rename("pm/a.txt", "pm/b.txt")
        c.check(sorted(sftp.listdir("pm")) == ["b.txt"], "paramiko rename")
        sftp.remove("pm/b.txt")
        sftp.rmdir("pm")
        c.check("pm" not in sftp.listdir("."), "paramiko remove and rmdir")
    finally:
        client.close()

    # rclone and lftp: trees up and down.
    tree = os.path.join(tmp, "tree")
    os.makedirs(os.path.join(tree, "sub", "deeper"))
    files = {"a.txt": 2, "empty": 0, "big.bin": 9 << 20, "sub/b.bin": 654321,
             "sub/deeper/c.txt": 10000}
    for name, size in files.items():
        write_random(os.path.join(tree, name), size)
    proc = gate.rclone("copy", tree, "REMOTE:rc")
    proc2 = gate.rclone("check", "--download", tree, "REMOTE:rc")
    c.check(proc.returncode == 0 and proc2.returncode == 0,
            "rclone copy up and check --download")
    listing = {}
    for line in gate.rclone("lsl", "REMOTE:rc").stdout.splitlines():
        size, _date, _time, path = line.split(None, 3)
        listing[path] = int(size)
    c.check(listing == files, "rclone lsl lists the tree (%s)" % listing)
    proc = gate.lftp(["mirror -R %s lf" % tree, "mirror lf %s/lf-back" % tmp])
    same = proc.returncode == 0 and all(
        sha256_file(os.path.join(tree, n)) == sha256_file(os.path.join(tmp, "lf-back", n))
        for n in files)
    c.check(same, "lftp mirror up and back by checksum")

    pending = store.pending_uploads(BUCKET)
    c.check(pending == [], "no multipart upload is left pending (%s)" % pending)
    c.check(backend.popen.poll() is None and gate.proc.popen.poll() is None,
            "backend and sftpgate still running")
    return not c.failures


# ------------------------------------------------------------------ crash


class HeldUpload:
    """A Write stream on a backend that sends `size` bytes, then waits
    (uncommitted) until released; the result is the committed size or the
    gRPC status code name."""

    def __init__(self, address, path, size):
        import grpc
        from sftpgate_sdk.proto import pb, pb_grpc
        self.grpc, self.pb = grpc, pb
        self.channel = grpc.insecure_channel(address, options=[
            ("grpc.max_send_message_length", 8 << 20)])
        self.stub = pb_grpc.BackendStub(self.channel)
        self.session = pb.Session(session_id="crash-%d" % id(self), user="u", root="/")
        self.path, self.size = path, size
        self.sent = threading.Event()
        self.release = threading.Event()
        self.result = None
        self.data = os.urandom(size)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _messages(self):
        pb = self.pb
        yield pb.WriteRequest(session=self.session,
                              header=pb.WriteHeader(path=self.path, flags=3))
        for offset in range(0, self.size, 1 << 20):
            yield pb.WriteRequest(chunk=pb.WriteChunk(
                offset=offset, data=self.data[offset:offset + (1 << 20)]))
        self.sent.set()
        self.release.wait(600)
        yield pb.WriteRequest(commit=pb.WriteCommit())

    def _run(self):
        self.call = self.stub.Write.future(self._messages(), timeout=600)
        try:
            self.result = self.call.result().committed_size
        except self.grpc.FutureCancelledError:
            self.result = "CANCELLED"
        except self.grpc.RpcError as error:
            self.result = error.code().name

    def finish(self):
        self.release.set()
        self.thread.join(600)
        self.channel.close()
        return self.result

    def vanish(self):
        """The client goes away without committing: the call is cancelled."""
        self.call.cancel()
        return self.finish()


def wait_for(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for %s" % what)


def part_crash(stack):
    os.environ.update(h.python_env())
    sys.path[:0] = os.environ["PYTHONPATH"].split(os.pathsep)
    store = swift_store.start(stack)
    store.create_bucket(BUCKET)
    s3 = store.boto3()
    c = Checker()
    one, one_address = start_backend(stack, store, "replica-1", "--replica_id", "replica-1")
    _, two_address = start_backend(stack, store, "replica-2", "--replica_id", "replica-2")

    # Each replica has an upload in progress: 12 MiB sent (one 8 MiB part out).
    doomed = HeldUpload(one_address, "/doomed.bin", 12 << 20)
    live = HeldUpload(two_address, "/live.bin", 12 << 20)
    for upload in (doomed, live):
        upload.sent.wait(300)
    pending = wait_for(lambda: sorted(k for k, _ in store.pending_uploads(BUCKET)) ==
                       ["doomed.bin", "live.bin"] and store.pending_uploads(BUCKET),
                       "both multipart uploads to be pending", timeout=120)
    c.check(len(pending) == 2, "both replicas have a multipart upload open")

    os.killpg(one.popen.pid, signal.SIGKILL)
    one.popen.wait()
    c.check(isinstance(doomed.finish(), str), "the killed replica's upload fails (%s)"
            % doomed.result)
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
             if not o["Key"].startswith(".sftpgate-uploads/")]
    c.check("doomed.bin" not in names, "no object appears for the killed upload")

    # Restarted with the same flags: its own leftover is aborted before it
    # serves; the other replica's live upload is untouched.
    started = time.monotonic()
    restarted, _ = start_backend(stack, store, "replica-1-again", "--replica_id", "replica-1")
    keys = sorted(k for k, _ in store.pending_uploads(BUCKET))
    h.log("restart to serving took %.1fs; pending now %s" % (time.monotonic() - started, keys))
    c.check(keys == ["live.bin"], "after the restart only the other replica's upload is "
            "pending (%s)" % keys)
    c.check("aborted 1 upload(s)" in restarted.log_text(),
            "the restarted replica reports aborting 1 upload")
    c.check(live.finish() == 12 << 20, "the live upload on replica 2 commits (%s)"
            % live.result)
    got = s3.get_object(Bucket=BUCKET, Key="live.bin")["Body"].read()
    c.check(got == live.data, "its object has exactly the bytes sent")
    c.check(store.pending_uploads(BUCKET) == [], "no multipart upload is left pending")

    # A client that vanishes part-way through a multipart upload (40 MiB
    # sent: five 8 MiB parts): the backend aborts the upload, and nothing
    # is left in the store.
    vanishing = HeldUpload(two_address, "/vanishing.bin", 40 << 20)
    vanishing.sent.wait(300)
    wait_for(lambda: [k for k, _ in store.pending_uploads(BUCKET)] == ["vanishing.bin"],
             "the vanishing upload's multipart upload to be open", timeout=120)
    c.check(vanishing.vanish() == "CANCELLED", "a vanished client's upload is cancelled (%s)"
            % vanishing.result)
    # The backend aborts the multipart upload, then forgets it in its
    # journal: both are done once the journal is empty too.
    def journal_entries():
        return s3.list_objects_v2(Bucket=BUCKET, Prefix=".sftpgate-uploads/").get("KeyCount")
    try:
        wait_for(lambda: store.pending_uploads(BUCKET) == [] and journal_entries() == 0,
                 "the vanished upload to be aborted and forgotten", timeout=120)
        aborted = True
    except RuntimeError:
        aborted = False
    c.check(aborted, "its multipart upload is aborted (pending: %s, journal: %s)"
            % (store.pending_uploads(BUCKET), journal_entries()))
    names = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    c.check("vanishing.bin" not in names, "no object appears for it")
    journal = journal_entries()
    c.check(journal == 0, "the upload journal is empty (%s entries)" % journal)
    return not c.failures


# ------------------------------------------------------------------ scale-out


class Worker(threading.Thread):
    """One paramiko session of mixed traffic in its own directory: uploads
    (acknowledged = putfo returned, which includes its size check), reads
    of acknowledged files, listings. Records every outcome."""

    def __init__(self, index, gate, stop):
        super().__init__(daemon=True)
        self.index, self.gate, self.stop = index, gate, stop
        self.acked = {}  # name -> sha256 of what was acknowledged
        self.failed_puts = {}  # name -> sha256 of what was attempted
        self.errors = {"get": [], "list": [], "put": []}
        self.counts = {"get": 0, "list": 0, "put": 0}

    def run(self):
        import io
        import random
        rng = random.Random(self.index)
        client = self.gate.paramiko()
        try:
            sftp = client.open_sftp()
            sftp.get_channel().settimeout(120)
            home = "w%d" % self.index
            sftp.mkdir(home)
            n = 0
            while not self.stop.is_set():
                n += 1
                name = "f%d" % n
                data = os.urandom(rng.randint(256 << 10, 3 << 20))
                digest = hashlib.sha256(data).hexdigest()
                self.counts["put"] += 1
                try:
                    sftp.putfo(io.BytesIO(data), "%s/%s" % (home, name))
                    self.acked[name] = digest
                except Exception as error:  # pylint: disable=broad-except
                    self.failed_puts[name] = digest
                    self.errors["put"].append(repr(error))
                if self.acked:
                    pick = rng.choice(sorted(self.acked))
                    self.counts["get"] += 1
                    try:
                        got = io.BytesIO()
                        sftp.getfo("%s/%s" % (home, pick), got)
                        if hashlib.sha256(got.getvalue()).hexdigest() != self.acked[pick]:
                            self.errors["get"].append("%s: wrong bytes" % pick)
                    except Exception as error:  # pylint: disable=broad-except
                        self.errors["get"].append("%s: %r" % (pick, error))
                self.counts["list"] += 1
                try:
                    missing = set(self.acked) - set(sftp.listdir(home))
                    if missing:
                        self.errors["list"].append("missing %s" % sorted(missing))
                except Exception as error:  # pylint: disable=broad-except
                    self.errors["list"].append(repr(error))
        except Exception as error:  # pylint: disable=broad-except
            self.errors["list"].append("session: %r" % error)
        finally:
            client.close()


class Balancer:
    """HAProxy in front of the front ends, configured from the shipped
    example (tests/replicas' balancer_config); clients reach the service
    through it like through a Sftpgate."""

    def __init__(self, unix_path, stats_socket, key):
        self.unix_path, self.stats_socket, self.key = unix_path, stats_socket, key
        self.port = 0

    paramiko = Sftpgate.paramiko

    def command(self, command):
        import socket
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(self.stats_socket)
            s.sendall(command.encode() + b"\n")
            return b"".join(iter(lambda: s.recv(65536), b"")).decode()

    def states(self):
        rows = self.command("show stat").splitlines()
        header = rows[0].lstrip("# ").split(",")
        return {f["svname"]: f["status"] for f in (dict(zip(header, r.split(",")))
                                                     for r in rows[1:])
                if f.get("pxname") == "sftpgate" and f.get("svname", "").startswith("gate")}


def start_haproxy(stack, ports):
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit("FAIL: haproxy is not installed (scripts/setup installs it)")
    sys.path.insert(0, os.path.join(HERE, "..", "replicas"))
    from test_frontends import EXAMPLE, balancer_config  # pylint: disable=import-outside-toplevel
    with open(EXAMPLE) as f:
        example = f.read()
    stats_socket = os.path.join(stack.tmp, "haproxy.sock")
    # HAProxy listens on a unix socket: no port to pick.
    listen = os.path.join(stack.tmp, "sftp.sock")
    config = os.path.join(stack.tmp, "haproxy.cfg")
    with open(config, "w") as f:
        f.write(balancer_config(example, "unix@" + listen, ports, stats_socket))
    proc = stack.spawn("haproxy", [haproxy, "-db", "-f", config])
    balancer = Balancer(listen, stats_socket, os.path.join(stack.tmp, "alice_key"))
    wait_for(lambda: proc.popen.poll() is None and os.path.exists(listen) and
             os.path.exists(stats_socket) and
             set(balancer.states().values()) == {"UP"} and
             len(balancer.states()) == len(ports), "haproxy to see the front ends up")
    return balancer


def part_scaleout(stack):
    store = swift_store.start(stack)
    store.create_bucket(BUCKET)
    s3 = store.boto3()
    c = Checker()
    # The front ends' target lists the replicas' addresses, so a replica
    # comes back on the same one: unix sockets, which nobody else takes.
    paths = [os.path.join(stack.tmp, "replica-%d.sock" % i) for i in range(3)]

    def replica(i, tag=""):
        proc = stack.spawn("replica-%d%s" % (i, tag), backend_args(
            store, "--listen", "unix:" + paths[i], "--replica_id", "replica-%d" % i),
            env=store.env())
        proc.wait_listening()
        return proc

    replicas = [replica(i) for i in range(3)]
    target = "unix:" + ",".join(paths)
    fronts = [Sftpgate(stack, target, "sftpgate-%d" % i,
                       ["--shutdown-grace-seconds", "120"]) for i in range(2)]
    balancer = start_haproxy(stack, [f.port for f in fronts])
    stop = threading.Event()
    workers = [Worker(i, balancer, stop) for i in range(20)]
    for w in workers:
        w.start()
    time.sleep(8)  # traffic under way (the schedule, not an outcome)
    h.log("SIGKILL replica-1")
    os.killpg(replicas[1].popen.pid, signal.SIGKILL)
    time.sleep(4)
    restarted = replica(1, "-again")
    h.log("replica-1 back: %s" % restarted.log_text().splitlines()[0])
    h.log("draining sftpgate-0: HAProxy state drain, then SIGTERM (sessions keep going)")
    balancer.command("set server sftpgate/gate1 state drain")
    fronts[0].proc.popen.send_signal(signal.SIGTERM)
    time.sleep(10)
    stop.set()
    for w in workers:
        w.join(300)
    c.check(all(not w.is_alive() for w in workers), "every session finished")
    counts = {k: sum(w.counts[k] for w in workers) for k in ("put", "get", "list")}
    errors = {k: sum(len(w.errors[k]) for w in workers) for k in ("put", "get", "list")}
    h.log("operations %s, errors %s" % (counts, errors))
    for w in workers:
        for kind in ("get", "list"):
            for e in w.errors[kind][:3]:
                h.log("  worker %d %s: %s" % (w.index, kind, e))
    c.check(errors["get"] == 0 and counts["get"] > 0, "downloads never fail")
    c.check(errors["list"] == 0 and counts["list"] > 0, "listings never fail")
    try:
        fronts[0].proc.popen.wait(60)
    except Exception:  # pylint: disable=broad-except
        pass
    c.check(fronts[0].proc.popen.returncode == 0,
            "the drained front end exits cleanly once its sessions end (%s)"
            % fronts[0].proc.popen.returncode)
    wrong = []
    for w in workers:
        for name, digest in w.acked.items():
            body = s3.get_object(Bucket=BUCKET, Key="alice/w%d/%s" % (w.index, name))
            if hashlib.sha256(body["Body"].read()).hexdigest() != digest:
                wrong.append((w.index, name))
        for name, digest in w.failed_puts.items():
            try:
                body = s3.get_object(Bucket=BUCKET, Key="alice/w%d/%s" % (w.index, name))
            except s3.exceptions.NoSuchKey:
                continue
            if hashlib.sha256(body["Body"].read()).hexdigest() != digest:
                wrong.append((w.index, name, "partial"))
    acked = sum(len(w.acked) for w in workers)
    c.check(not wrong and acked > 0, "all %d acknowledged uploads are in the bucket with "
            "their bytes; no failed upload is half-visible (%s)" % (acked, wrong[:5]))
    c.check(wait_for(lambda: store.pending_uploads(BUCKET) == [],
                     "no pending multipart upload", timeout=30),
            "no multipart upload is left pending")
    return not c.failures


PARTS = {"backend": part_backend, "clients": part_clients, "crash": part_crash,
         "scaleout": part_scaleout}


if __name__ == "__main__":
    sys.exit(h.run_part("s3", PARTS, sys.argv))
