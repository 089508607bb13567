"""Delegated authentication (--auth grpc:TARGET) with the sample Python
authenticator, and per-tenant backend routing: sessions of tenant "a" land
on backend X, tenant "b" on backend Y, the others on the default backend
(checked with direct gRPC calls to each backend)."""

import os
import socket
import subprocess
import unittest

import paramiko

from ops_harness import BIN_DIR, OpsTestCase, Process, backend_size

AUTHENTICATOR = os.path.join(BIN_DIR, "sftpgate-python-authenticator")


def exists_on(target, path):
    return backend_size(target, path) is not None


class DelegatedAuthTest(OpsTestCase):

    def setUp(self):
        super().setUp()
        self.x = self.start_memory_backend("x")
        self.y = self.start_memory_backend("y")
        self.z = self.start_memory_backend("z")  # the default backend
        # Local users (decided by sftpgate's own file).
        self.add_user("alice", "alice-local-pw")
        self.write_users()
        # The authenticator's users.
        dave_key = self.make_key("dave")
        with open(dave_key + ".pub") as f:
            dave_public = f.read().strip()
        self.dave_key = dave_key
        self.remote = {"carol": "carol-remote-pw", "erin": "erin-remote-pw",
                       "alice": "alice-remote-pw", "frank": "frank-remote-pw"}
        hashes = {name: self.hash_remote(pw) for name, pw in self.remote.items()}
        with open(self.path("auth-users.toml"), "w") as f:
            f.write("\n".join([
                '[[user]]', 'name = "carol"', 'tenant = "a"',
                'root = "/carol"', 'password_pbkdf2 = "%s"' % hashes["carol"],
                '[user.attributes]', 'plan = "gold"', '',
                '[[user]]', 'name = "dave"', 'tenant = "b"', 'root = "/dave"',
                'authorized_keys = ["%s"]' % dave_public, '',
                '[[user]]', 'name = "erin"', 'tenant = "a"',
                'backend = "%s"' % self.z,
                'password_pbkdf2 = "%s"' % hashes["erin"], '',
                '[[user]]', 'name = "frank"', 'tenant = "a"', 'root = "/frank"',
                'read_only = true',
                'password_pbkdf2 = "%s"' % hashes["frank"], '',
                '[[user]]', 'name = "alice"', 'tenant = "b"',
                'password_pbkdf2 = "%s"' % hashes["alice"], '']))
        sock = self.path("auth.sock")
        self.authenticator = Process(
            [AUTHENTICATOR, "--listen=unix:" + sock,
             "--users=" + self.path("auth-users.toml")],
            self.path("authenticator.log"))
        self.processes.append(self.authenticator)
        self.assertTrue(self.authenticator.wait_for_log("listening"),
                        self.authenticator.log())
        self.auth_target = "unix:" + sock

    @staticmethod
    def hash_remote(password):
        return subprocess.run([AUTHENTICATOR, "--hash-password"],
                              input=password + "\n", capture_output=True,
                              text=True, check=True, timeout=60).stdout.strip()

    def write(self, user, path, data=b"data", **login):
        sftp = self.sftp(user, **login)
        with sftp.open(path, "w") as f:
            f.write(data)
        return sftp

    def check_routing(self):
        # Tenant a -> X, confined to the root the authenticator gave.
        self.write("carol", "/carol.txt", password=self.remote["carol"])
        self.assertTrue(exists_on(self.x, "/carol/carol.txt"))
        self.assertFalse(exists_on(self.y, "/carol/carol.txt"))
        self.assertFalse(exists_on(self.z, "/carol/carol.txt"))
        # Tenant b -> Y, by public key.
        self.write("dave", "/dave.txt", key=self.dave_key)
        self.assertTrue(exists_on(self.y, "/dave/dave.txt"))
        self.assertFalse(exists_on(self.x, "/dave/dave.txt"))
        self.assertFalse(exists_on(self.z, "/dave/dave.txt"))
        # An explicit backend_target wins over the tenant's route.
        self.write("erin", "/erin.txt", password=self.remote["erin"])
        self.assertTrue(exists_on(self.z, "/erin.txt"))
        self.assertFalse(exists_on(self.x, "/erin.txt"))
        log = self.gate.log()
        self.assertRegex(log, r"auth .*user=carol .*method=password result=ok "
                              r"key=\"\" tenant=a backend=%s" % self.x)
        self.assertRegex(log, r"auth .*user=dave .*method=publickey result=ok "
                              r"key=SHA256:\S+ tenant=b backend=%s" % self.y)

    def test_routes_from_flags(self):
        self.start_gate(self.z, ["--auth=grpc:" + self.auth_target,
                                 "--tenant-backend", "a=" + self.x,
                                 "--tenant-backend=b=" + self.y])
        self.assertIn("tenant_routes=2", self.gate.log())
        self.check_routing()

    def test_routes_from_config_file(self):
        with open(self.path("sftpgate.toml"), "w") as f:
            f.write('auth = "grpc:%s"\n[tenants.a]\nbackend = "%s"\n'
                    '[tenants.b]\nbackend = "%s"\n' %
                    (self.auth_target, self.x, self.y))
        self.start_gate(self.z, ["--config=" + self.path("sftpgate.toml")])
        self.check_routing()

    def test_refusals_and_local_users_first(self):
        self.start_gate(self.z, ["--auth=grpc:" + self.auth_target,
                                 "--tenant-backend=a=" + self.x])
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("carol", password="not-carols-password")
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("mallory", password="anything")
        self.assertRegex(self.gate.log(),
                         r"auth .*user=carol .*result=fail "
                         r"reason=\"authenticator: wrong password\"")
        self.assertRegex(self.gate.log(), r"auth .*user=mallory .*result=fail")
        # alice is in the local users file: only the local password works,
        # and the authenticator is not asked.
        self.login("alice", password="alice-local-pw")
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("alice", password=self.remote["alice"])
        self.assertNotIn("user=alice", self.authenticator.log())
        # The authenticator's read_only is enforced.
        sftp = self.sftp("frank", password=self.remote["frank"])
        with self.assertRaises(PermissionError):
            sftp.open("/nope.txt", "w").write(b"x")

    def test_authenticator_down_refuses_within_the_deadline(self):
        # Something that accepts connections and never answers.
        silent = socket.socket(socket.AF_UNIX)
        silent.bind(self.path("silent.sock"))
        silent.listen(16)
        self.addCleanup(silent.close)
        self.start_gate(self.z, ["--auth=grpc:unix:" + self.path("silent.sock"),
                                 "--auth-timeout-ms=500"])
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("carol", password=self.remote["carol"])
        self.assertRegex(self.gate.log(), r"user=carol .*result=fail "
                                          r"reason=\"authenticator unavailable")
        # Local users are not affected.
        self.login("alice", password="alice-local-pw")

    def test_users_file_is_optional_with_auth(self):
        os.remove(self.path("users.toml"))
        argv = [a for a in self.gate_args(self.z, ["--auth=grpc:" +
                                                   self.auth_target])
                if not a.startswith("--users=")]
        self.start_gate(self.z, argv=argv)
        self.login("carol", password=self.remote["carol"])


if __name__ == "__main__":
    unittest.main()
