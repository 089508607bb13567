"""A throwaway OpenStack Swift with its s3api middleware, for tests.

One node, one device, one replica: the account, container and object
servers, the proxy (pipeline `... s3api tempauth ... slo ...`) and a
memcached, all children of the test (they die with it), configured and
stored under the test's temp dir. Started once per test file; start-up
takes about 10 s.

Ports: every other server a test starts binds port 0 and reports the port
it got. Swift cannot: its rings must name the servers' ports before the
servers start. So this fixture picks free ports by binding port 0 and
releasing it, and if a server then cannot bind its port (someone took it
in between) the start fails with that server's log, never a silent retry.

As root the servers run as the `swift` user (installed by Debian's swift
package), which must own the device folder.

S3 credentials: tempauth user `test:tester` with key `testing` is the
access key id / secret access key.
"""

import os
import pwd
import shutil
import signal
import socket
import time

import backend_harness as h

ACCESS_KEY = "test:tester"
SECRET_KEY = "testing"
REGION = "us-east-1"

_SERVERS = ("object", "container", "account")


def _probe_port():
    """A port free right now (bound to port 0, then released): Swift's rings
    need their servers' ports before the servers start, the one exception
    to "servers bind port 0"."""
    with socket.socket() as s:
        s.bind((h.HOST, 0))
        return s.getsockname()[1]


def _wait_port(process, port, timeout=60.0):
    """Waits until `port` accepts; fails with the log if `process` exits
    first (e.g. its port was taken meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError("%s exited with %s before listening on %d:\n%s" % (
                process.name, process.popen.returncode, port, process.log_text()))
        try:
            with socket.create_connection((h.HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s did not listen on %d:\n%s" % (process.name, port,
                                                        process.log_text()))


def _require(program):
    path = shutil.which(program)
    if path is None:
        raise SystemExit("FAIL: %s not found; install Swift with scripts/setup "
                         "(swift-proxy, swift-account, swift-container, swift-object, "
                         "memcached)" % program)
    return path


def _as_swift():
    """Command prefix that runs a server as the swift user when root."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("swift")
    except KeyError:
        raise SystemExit("FAIL: running as root but there is no `swift` user "
                         "(install the swift package)") from None
    return ["setpriv", "--reuid=swift", "--regid=swift", "--init-groups",
            "--pdeathsig=KILL", "--"], "swift"


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


class SwiftStore:
    """A running store; `endpoint` is its S3 URL."""

    def __init__(self, stack, endpoint, proxy, home):
        self.stack = stack
        self.endpoint = endpoint
        self.proxy = proxy
        self.home = home

    def boto3(self):
        """A boto3 S3 client for the store (test-side checks)."""
        import boto3
        from botocore.config import Config
        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, region_name=REGION,
            config=Config(s3={"addressing_style": "path"},
                          retries={"max_attempts": 1}))

    def create_bucket(self, name):
        self.boto3().create_bucket(Bucket=name)

    def env(self):
        """Environment with the credentials, as the backend takes them."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def pending_uploads(self, bucket):
        """[(key, upload id)] of the bucket's open multipart uploads."""
        s3 = self.boto3()
        found = []
        kwargs = {"Bucket": bucket}
        while True:
            page = s3.list_multipart_uploads(**kwargs)
            found += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
            if not page.get("IsTruncated"):
                return found
            kwargs.update(KeyMarker=page["NextKeyMarker"],
                          UploadIdMarker=page["NextUploadIdMarker"])


def start(stack):
    """Starts Swift + memcached under stack.tmp; returns a SwiftStore."""
    for program in ("swift-ring-builder", "swift-proxy-server", "swift-object-server",
                    "swift-container-server", "swift-account-server", "memcached"):
        _require(program)
    if not os.path.exists("/etc/swift/swift.conf"):
        raise SystemExit("FAIL: /etc/swift/swift.conf missing (Debian's swift package "
                         "installs it with the hash path prefix/suffix Swift requires)")
    prefix, user = _as_swift()
    home = os.path.join(stack.tmp, "swift")
    devices = os.path.join(home, "srv")
    os.makedirs(os.path.join(devices, "d1"))
    os.makedirs(os.path.join(home, "cache"))
    ports = {name: _probe_port() for name in _SERVERS + ("proxy", "memcached")}
    if user:
        for root, dirs, _ in os.walk(home):
            shutil.chown(root, user, user)
            for d in dirs:
                shutil.chown(os.path.join(root, d), user, user)

    h.log("swift: building rings (ports %s)" % ports)
    for name in _SERVERS:
        builder = os.path.join(home, "%s.builder" % name)
        for args in (["create", "8", "1", "1"],
                     ["add", "r1z1-%s:%d/d1" % (h.HOST, ports[name]), "1"],
                     ["rebalance"]):
            proc = h.run(["swift-ring-builder", builder] + args, timeout=120)
            # rebalance exits 1 with a warning on a one-device ring.
            if proc.returncode not in (0, 1) or (args[0] != "rebalance" and proc.returncode):
                raise RuntimeError("swift-ring-builder %s failed:\n%s%s"
                                   % (" ".join(args), proc.stdout, proc.stderr))
        if not os.path.exists(os.path.join(home, "%s.ring.gz" % name)):
            raise RuntimeError("swift-ring-builder wrote no %s ring" % name)
    if user:
        for entry in os.listdir(home):
            shutil.chown(os.path.join(home, entry), user, user)

    common = ("[DEFAULT]\nbind_ip = %s\nbind_port = %%d\nworkers = 1\n"
              "swift_dir = %s\ndevices = %s\nmount_check = false\n"
              "log_name = %%s\nlog_facility = LOG_LOCAL2\nlog_level = WARNING\n"
              "recon_cache_path = %s\n%s" % (
                  h.HOST, home, devices, os.path.join(home, "cache"),
                  "user = %s\n" % user if user else ""))
    for name in _SERVERS:
        _write(os.path.join(home, "%s-server.conf" % name),
               common % (ports[name], name) +
               "\n[pipeline:main]\npipeline = %s-server\n\n[app:%s-server]\n"
               "use = egg:swift#%s\n" % (name, name, name))
    _write(os.path.join(home, "proxy-server.conf"), common % (ports["proxy"], "proxy") + """
[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
memcache_servers = %s:%d

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:s3api]
use = egg:swift#s3api
location = %s

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
""" % (h.HOST, ports["memcached"], REGION))

    memcached = ["memcached", "-l", h.HOST, "-p", str(ports["memcached"]), "-U", "0",
                 "-m", "64"]
    if user:
        memcached += ["-u", user]
    started = [stack.spawn("memcached", memcached)]
    for name in _SERVERS:
        started.append(stack.spawn("swift-%s" % name, prefix + [
            "swift-%s-server" % name, os.path.join(home, "%s-server.conf" % name)],
            stop_signal=signal.SIGTERM))
    proxy = stack.spawn("swift-proxy", prefix + [
        "swift-proxy-server", os.path.join(home, "proxy-server.conf")])
    started.append(proxy)
    for process, port in zip(started, [ports["memcached"]] +
                             [ports[n] for n in _SERVERS] + [ports["proxy"]]):
        _wait_port(process, port)
    endpoint = "http://%s:%d" % (h.HOST, ports["proxy"])
    store = SwiftStore(stack, endpoint, proxy, home)
    _wait_s3(store, started)
    h.log("swift ready: S3 endpoint %s" % endpoint)
    return store


def _wait_s3(store, processes, timeout=90.0):
    """Polls until s3api answers an authenticated ListBuckets."""
    deadline = time.monotonic() + timeout
    s3 = store.boto3()
    last = None
    while time.monotonic() < deadline:
        for process in processes:
            if process.popen.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (
                    process.name, process.popen.returncode, process.log_text()))
        try:
            s3.list_buckets()
            return
        except Exception as error:  # pylint: disable=broad-except
            last = error
            time.sleep(0.2)
    raise RuntimeError("swift s3api not ready in %.0fs: %r" % (timeout, last))
