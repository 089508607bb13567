"""Backends and the authenticator trust only the front end: mutual TLS on
every gRPC channel the product serves or opens (C++ SDK host, Python SDK
host, Node backend, Python authenticator, events consumer; front end ->
backend, -> authenticator and -> events service), owner-only unix sockets, and no passwords in clear to a
remote authenticator. Certificates are made at test time with the openssl
command line: a CA the parties share, and a rogue CA whose certificates
must get nothing."""

import json
import os
import stat
import subprocess
import unittest

import grpc
import paramiko

from ops_harness import BIN_DIR, HOST, OpsTestCase, Process, wait_until
from sftpgate.v1 import auth_pb2, auth_pb2_grpc, backend_pb2, backend_pb2_grpc  # pylint: disable=wrong-import-order
from sftpgate.v1 import events_pb2, events_pb2_grpc  # pylint: disable=wrong-import-order

SFTPGATE = os.path.join(BIN_DIR, "sftpgate")
HOSTS = {
    "cpp": os.path.join(BIN_DIR, "sftpgate-memory-backend"),
    "python": os.path.join(BIN_DIR, "sftpgate-python-memory-backend"),
    "node": os.path.join(BIN_DIR, "sftpgate-node-memory-backend"),
}
AUTHENTICATOR = os.path.join(BIN_DIR, "sftpgate-python-authenticator")
CONSUMER = os.path.join(BIN_DIR, "sftpgate-events-consumer")
# The C++ host spells its flags with underscores, the others with dashes.
TLS_FLAGS = {
    "cpp": ("--tls_cert", "--tls_key", "--tls_client_ca", "--socket_mode"),
    "python": ("--tls-cert", "--tls-key", "--tls-client-ca", "--socket-mode"),
    "node": ("--tls-cert", "--tls-key", "--tls-client-ca", "--socket-mode"),
}


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True,
                   timeout=60)


class Pki:
    """A CA and certificates signed by it, in `directory`."""

    def __init__(self, directory, name):
        self.dir = directory
        self.name = name
        self.ca = self._file("ca.pem")
        self.ca_key = self._file("ca.key")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", "/CN=%s test CA" % name, "-keyout", self.ca_key,
                "-out", self.ca)

    def _file(self, suffix):
        return os.path.join(self.dir, "%s-%s" % (self.name, suffix))

    def issue(self, common_name, server=False):
        """(cert, key) for `common_name`; a server certificate names
        localhost and 127.0.0.1."""
        key, csr = self._file(common_name + ".key"), self._file(common_name + ".csr")
        cert, ext = self._file(common_name + ".pem"), self._file(common_name + ".ext")
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                "/CN=" + common_name, "-keyout", key, "-out", csr)
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth\n" if server else
                    "extendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey",
                self.ca_key, "-CAcreateserial", "-days", "2", "-out", cert,
                "-extfile", ext)
        return cert, key


def read(path):
    with open(path, "rb") as f:
        return f.read()


class TlsTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.pki = Pki(self.dir, "good")
        self.rogue = Pki(self.dir, "rogue")
        self.server_cert, self.server_key = self.pki.issue("backend", server=True)
        self.client_cert, self.client_key = self.pki.issue("frontend")
        self.rogue_cert, self.rogue_key = self.rogue.issue("intruder")

    def channel(self, target, cert=None, key=None):
        """A TLS channel trusting the good CA, presenting (cert, key) if
        given; or plaintext with cert == "plain"."""
        if cert == "plain":
            return grpc.insecure_channel(target)
        credentials = grpc.ssl_channel_credentials(
            root_certificates=read(self.pki.ca),
            private_key=read(key) if key else None,
            certificate_chain=read(cert) if cert else None)
        return grpc.secure_channel(target, credentials)

    def describe(self, target, cert=None, key=None):
        """A Describe call's outcome: "ok" or the gRPC status code name."""
        with self.channel(target, cert, key) as channel:
            stub = backend_pb2_grpc.BackendStub(channel)
            try:
                stub.Describe(backend_pb2.DescribeRequest(
                    session=backend_pb2.Session(session_id="t", user="t",
                                                root="/")), timeout=10)
                return "ok"
            except grpc.RpcError as error:
                return error.code().name

    def start_host(self, kind, listen, tls=True, extra=()):
        cert_flag, key_flag, ca_flag, _ = TLS_FLAGS[kind]
        argv = [HOSTS[kind], "--listen=" + listen] + list(extra)
        if tls:
            argv += [cert_flag + "=" + self.server_cert,
                     key_flag + "=" + self.server_key,
                     ca_flag + "=" + self.pki.ca]
        process = Process(argv, self.path("%s-%d.log" % (kind, len(self.processes))))
        self.processes.append(process)
        match = process.wait_for_log(r"listening on (\S+)")
        self.assertTrue(match, process.log())
        return match.group(1)

    def check_only_the_front_end_gets_in(self, kind):
        if not os.path.exists(HOSTS[kind]):
            self.fail("%s is not built" % HOSTS[kind])
        target = self.start_host(kind, "127.0.0.1:0")
        self.assertEqual(self.describe(target, self.client_cert, self.client_key), "ok")
        # No certificate, a certificate of another CA, or no TLS at all:
        # nothing gets through.
        self.assertEqual(self.describe(target), "UNAVAILABLE")
        self.assertEqual(self.describe(target, self.rogue_cert, self.rogue_key),
                         "UNAVAILABLE")
        self.assertEqual(self.describe(target, "plain"), "UNAVAILABLE")

    def test_cpp_host_requires_a_client_certificate(self):
        self.check_only_the_front_end_gets_in("cpp")

    def test_python_host_requires_a_client_certificate(self):
        self.check_only_the_front_end_gets_in("python")

    def test_node_backend_requires_a_client_certificate(self):
        self.check_only_the_front_end_gets_in("node")

    def test_unix_sockets_are_owner_only_by_default(self):
        for kind in HOSTS:
            sock = self.path(kind + ".sock")
            self.start_host(kind, "unix:" + sock, tls=False)
            self.assertEqual(stat.S_IMODE(os.stat(sock).st_mode), 0o600, kind)
            group_sock = self.path(kind + "-group.sock")
            self.start_host(kind, "unix:" + group_sock, tls=False,
                            extra=[TLS_FLAGS[kind][3] + "=0660"])
            self.assertEqual(stat.S_IMODE(os.stat(group_sock).st_mode), 0o660,
                             kind)

    def test_host_refuses_partial_or_unreadable_tls_settings(self):
        result = subprocess.run(
            [HOSTS["cpp"], "--listen=127.0.0.1:0", "--tls_cert=" + self.server_cert],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--tls_key", result.stderr)
        result = subprocess.run(
            [HOSTS["cpp"], "--listen=127.0.0.1:0", "--tls_cert=" + self.server_key,
             "--tls_key=" + self.server_key, "--tls_client_ca=" + self.pki.ca],
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("--tls_cert", result.stderr)
        self.assertIn("no PEM CERTIFICATE", result.stderr)

    # ---- The front end as a TLS client. ----

    def gate_tls_args(self, prefix, cert=None, key=None, ca=None):
        return ["--%s-tls-cert=%s" % (prefix, cert or self.client_cert),
                "--%s-tls-key=%s" % (prefix, key or self.client_key),
                "--%s-tls-ca=%s" % (prefix, ca or self.pki.ca)]

    def test_front_end_reaches_a_backend_over_mutual_tls(self):
        self.add_user("alice", "alice-pw")
        target = self.start_host("cpp", "127.0.0.1:0")
        self.start_gate(target, self.gate_tls_args("backend"))
        sftp = self.sftp("alice")
        with sftp.open("/hello.txt", "w") as f:
            f.write(b"over mTLS")
        self.assertEqual(sftp.open("/hello.txt").read(), b"over mTLS")

    def test_front_end_with_a_rogue_certificate_gets_nothing(self):
        self.add_user("alice", "alice-pw")
        target = self.start_host("cpp", "127.0.0.1:0")
        self.start_gate(target, self.gate_tls_args(
            "backend", self.rogue_cert, self.rogue_key) + ["--call-timeout-ms=2000"])
        sftp = self.sftp("alice")
        with self.assertRaises(IOError):
            sftp.listdir("/")

    def test_front_end_refuses_to_start_with_partial_tls_settings(self):
        self.add_user("alice", "alice-pw")
        self.write_users()
        result = subprocess.run(
            self.gate_args("127.0.0.1:1", ["--backend-tls-cert=" + self.client_cert]),
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("backend_tls_key", result.stderr)

    def test_no_passwords_in_clear_to_a_remote_authenticator(self):
        self.add_user("alice", "alice-pw")
        self.write_users()
        backend = self.start_memory_backend()
        result = subprocess.run(
            self.gate_args(backend, ["--auth=grpc:192.0.2.10:7100"]),
            capture_output=True, text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("auth_allow_insecure", result.stderr)
        # Loopback, a unix socket, TLS, or the explicit flag are accepted.
        for extra in (["--auth=grpc:127.0.0.1:7100"],
                      ["--auth=grpc:unix:" + self.path("a.sock")],
                      ["--auth=grpc:192.0.2.10:7100"] + self.gate_tls_args("auth"),
                      ["--auth=grpc:192.0.2.10:7100", "--auth-allow-insecure"]):
            gate = self.start_gate(backend, extra)
            self.assertIsNotNone(gate)
            self.gate.stop()

    def test_front_end_to_authenticator_over_mutual_tls(self):
        backend = self.start_memory_backend()
        self.add_user("alice", "alice-pw")  # local; carol is remote
        self.write_users()
        hashed = subprocess.run(
            [AUTHENTICATOR, "--hash-password"], input="carol-pw\n", text=True,
            capture_output=True, check=True, timeout=60).stdout.strip()
        with open(self.path("auth-users.toml"), "w") as f:
            f.write('[[user]]\nname = "carol"\npassword_pbkdf2 = "%s"\n' % hashed)
        authenticator = Process(
            [AUTHENTICATOR, "--listen=127.0.0.1:0",
             "--users=" + self.path("auth-users.toml"),
             "--tls-cert=" + self.server_cert, "--tls-key=" + self.server_key,
             "--tls-client-ca=" + self.pki.ca], self.path("authenticator.log"))
        self.processes.append(authenticator)
        target = authenticator.wait_for_log(r"listening on (\S+)").group(1)
        # A caller without the front end's certificate learns nothing.
        with self.channel(target) as channel:
            with self.assertRaises(grpc.RpcError) as caught:
                auth_pb2_grpc.AuthenticatorStub(channel).Authenticate(
                    auth_pb2.AuthenticateRequest(user="carol", password="carol-pw"),
                    timeout=10)
            self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAVAILABLE)
        self.start_gate(backend, ["--auth=grpc:" + target] +
                        self.gate_tls_args("auth"))
        self.assertEqual(self.sftp("carol", password="carol-pw").listdir("/"), [])


    def test_front_end_to_events_consumer_over_mutual_tls(self):
        backend = self.start_memory_backend()
        self.add_user("alice", "alice-pw")
        output = self.path("events.jsonl")
        consumer = Process(
            [CONSUMER, "--listen=127.0.0.1:0", "--output=" + output,
             "--tls-cert=" + self.server_cert, "--tls-key=" + self.server_key,
             "--tls-client-ca=" + self.pki.ca], self.path("consumer.log"))
        self.processes.append(consumer)
        match = consumer.wait_for_log(r"listening on (\S+)")
        self.assertTrue(match, consumer.log())
        target = match.group(1)
        # A caller without the front end's certificate cannot plant events.
        forged = events_pb2.PublishRequest(events=[events_pb2.Event(
            event_id="forged-1", kind=events_pb2.EVENT_KIND_LOGIN)])
        for cert, key in ((None, None), (self.rogue_cert, self.rogue_key),
                          ("plain", None)):
            with self.channel(target, cert, key) as channel:
                with self.assertRaises(grpc.RpcError) as caught:
                    events_pb2_grpc.EventsStub(channel).Publish(forged, timeout=10)
                self.assertEqual(caught.exception.code(),
                                 grpc.StatusCode.UNAVAILABLE)
        self.start_gate(backend, ["--events=grpc:" + target] +
                        self.gate_tls_args("events"))
        self.sftp("alice").listdir("/")

        def logins():
            if not os.path.exists(output):
                return []
            with open(output, encoding="utf-8") as f:
                return [e for e in map(json.loads, f)
                        if e.get("kind") == "EVENT_KIND_LOGIN"]
        self.assertTrue(wait_until(lambda: logins(), timeout=30),
                        consumer.log())
        self.assertEqual([e["session"]["user"] for e in logins()], ["alice"])


if __name__ == "__main__":
    unittest.main()
