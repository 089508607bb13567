"""Logs never hold secrets: after password, keyboard-interactive and
public-key logins (right and wrong, local and delegated), the JSON log
holds none of the passwords typed and none of the keys' base64 (public or
private); auth events carry who/how/result and the key's fingerprint.

`transfer` lines account for data: every download handle ends with one,
whose result is the error when a READ failed (the backend died), and
`aborted` when the session ended with it open (the client vanished, the
front end was stopped)."""

import base64
import json
import os
import signal
import subprocess
import unittest

import paramiko

from ops_harness import BIN_DIR, OpsTestCase, Process, wait_until

AUTHENTICATOR = os.path.join(BIN_DIR, "sftpgate-python-authenticator")
GOOD = "Good-Pa55word-Sentinel-7f3a"
WRONG = "Wrong-Pa55word-Sentinel-91c2"
REMOTE_GOOD = "Remote-Pa55word-Sentinel-44d0"
REMOTE_WRONG = "Remote-Wrong-Sentinel-0b5e"


def key_secrets(private_key_path):
    """Strings that must never appear in a log for this key: the public
    key's base64, and every 16-character slice of the private key file's
    base64 body."""
    with open(private_key_path + ".pub") as f:
        secrets = [f.read().split()[1]]
    with open(private_key_path) as f:
        body = "".join(line.strip() for line in f if "-----" not in line)
    secrets += [body[i:i + 16] for i in range(0, len(body) - 16, 16)]
    return secrets


class LogSecretsTest(OpsTestCase):

    def interactive(self, transport, user, answer):
        transport.auth_interactive(user, lambda title, instructions, prompts:
                                   [answer] * len(prompts))

    def test_auth_events_hold_no_passwords_or_key_material(self):
        self.add_user("alice", GOOD, key=True)
        stranger_key = self.make_key("stranger")  # authorized nowhere
        # A delegated user, through the sample authenticator.
        remote_hash = subprocess.run(
            [AUTHENTICATOR, "--hash-password"], input=REMOTE_GOOD + "\n",
            capture_output=True, text=True, check=True, timeout=60).stdout
        with open(self.path("auth-users.toml"), "w") as f:
            f.write('[[user]]\nname = "carol"\npassword_pbkdf2 = "%s"\n' %
                    remote_hash.strip())
        authenticator = Process(
            [AUTHENTICATOR, "--listen=unix:" + self.path("auth.sock"),
             "--users=" + self.path("auth-users.toml")],
            self.path("authenticator.log"))
        self.processes.append(authenticator)
        self.assertTrue(authenticator.wait_for_log("listening"))
        self.start_gate(self.start_memory_backend(),
                        ["--log-format=json", "--log-level=debug",
                         "--auth=grpc:unix:" + self.path("auth.sock")])

        # Passwords, right and wrong, local and delegated.
        for user, password in (("alice", WRONG), ("carol", REMOTE_WRONG),
                               ("mallory", WRONG)):
            with self.assertRaises(paramiko.AuthenticationException):
                self.login(user, password=password)
        self.login("alice", password=GOOD)
        self.login("carol", password=REMOTE_GOOD)
        # Keyboard-interactive, wrong then right.
        transport = self.transport()
        with self.assertRaises(paramiko.AuthenticationException):
            self.interactive(transport, "alice", WRONG)
        self.interactive(transport, "alice", GOOD)
        # Public keys: an unauthorized one, then alice's (paramiko), then
        # OpenSSH (which offers the key before signing with it).
        with self.assertRaises(paramiko.AuthenticationException):
            self.login("alice", key=stranger_key)
        self.login("alice", key=self.users["alice"]["key"])
        subprocess.run(
            ["sftp", "-b", "-", "-i", self.users["alice"]["key"],
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
             "-P", str(self.port), "alice@127.0.0.1"],
            input=b"ls\n", capture_output=True, check=True, timeout=60)

        self.gate.stop()
        log = self.gate.log()
        secrets = [GOOD, WRONG, REMOTE_GOOD, REMOTE_WRONG]
        secrets += key_secrets(self.users["alice"]["key"])
        secrets += key_secrets(stranger_key)
        for secret in secrets:
            self.assertNotIn(secret, log)
        # Nor the key's bytes in another encoding (hex).
        alice_blob = base64.b64decode(key_secrets(self.users["alice"]["key"])[0])
        self.assertNotIn(alice_blob.hex(), log)
        self.assertNotIn(REMOTE_GOOD, authenticator.log())
        self.assertNotIn(REMOTE_WRONG, authenticator.log())

        # Every line is one JSON object; the auth events say what happened.
        events = [json.loads(line) for line in log.splitlines()]
        auth = [e for e in events if e["event"] == "auth"]
        outcomes = {(e["user"], e["method"], e["result"]) for e in auth}
        for expected in (("alice", "password", "fail"),
                         ("alice", "password", "ok"),
                         ("carol", "password", "fail"),
                         ("carol", "password", "ok"),
                         ("mallory", "password", "fail"),
                         ("alice", "keyboard-interactive", "fail"),
                         ("alice", "keyboard-interactive", "ok"),
                         ("alice", "publickey", "fail"),
                         ("alice", "publickey", "ok")):
            self.assertIn(expected, outcomes)
        fingerprint = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f",
             self.users["alice"]["key"] + ".pub"], capture_output=True,
            text=True, check=True).stdout.split()[1]
        key_logins = [e for e in auth if e["method"] == "publickey" and
                      e["result"] == "ok"]
        self.assertEqual(len(key_logins), 2)
        for event in key_logins:
            self.assertEqual(event["key"], fingerprint)
            self.assertTrue(event["remote"].startswith("127.0.0.1:"))



class TransferLogTest(OpsTestCase):
    """The `transfer` line of downloads that did not finish normally."""

    MIB = 1024 * 1024
    SIZE = 32 * MIB

    def setUp(self):
        super().setUp()
        self.add_user("alice", GOOD)
        self.backend = self.start_memory_backend()
        self.backend_process = self.processes[-1]
        self.start_gate(self.backend,
                        ["--log-format=json", "--call-timeout-ms=3000"])
        client = self.sftp("alice")
        with client.open("/big.bin", "wb") as f:
            f.set_pipelined(True)
            f.write(os.urandom(self.SIZE))
        client.close()

    def transfers(self, path="/big.bin", direction="download"):
        events = [json.loads(line) for line in self.gate.log().splitlines()
                  if line.startswith("{")]
        return [e for e in events if e["event"] == "transfer" and
                e["path"] == path and e["direction"] == direction]

    def wait_for_transfer(self, **match):
        self.assertTrue(wait_until(lambda: self.transfers(**match)),
                        self.gate.log()[-4000:])
        return self.transfers(**match)

    def start_download(self, nbytes):
        """A paramiko download of /big.bin that has read `nbytes`."""
        client = self.sftp("alice")
        f = client.open("/big.bin", "rb")
        self.assertEqual(len(f.read(nbytes)), nbytes)
        return client, f

    def test_a_download_whose_backend_died_logs_the_error(self):
        client, f = self.start_download(self.MIB)
        self.backend_process.kill()
        with self.assertRaises(IOError):
            while f.read(self.MIB):
                pass
        f.close()
        [line] = self.wait_for_transfer()
        self.assertNotEqual(line["result"], "ok", line)
        self.assertNotEqual(line["result"], "aborted", line)
        self.assertGreaterEqual(int(line["bytes"]), self.MIB)
        self.assertLess(int(line["bytes"]), self.SIZE)
        client.close()

    def test_a_download_the_client_abandons_logs_aborted(self):
        client, _ = self.start_download(4 * self.MIB)
        # Gone without closing the handle, as a killed client.
        client.get_channel().get_transport().sock.close()
        [line] = self.wait_for_transfer()
        self.assertEqual(line["result"], "aborted", line)
        self.assertEqual(int(line["bytes"]), 4 * self.MIB)
        # A download closed normally still logs ok.
        client, f = self.start_download(self.MIB)
        f.close()
        lines = self.wait_for_transfer()
        self.assertEqual([l["result"] for l in lines], ["aborted", "ok"])

    def test_stopping_the_front_end_logs_open_downloads_aborted(self):
        # Kept referenced: paramiko closes a file it collects.
        client, f = self.start_download(2 * self.MIB)
        self.gate.stop(signal.SIGTERM)
        lines = self.transfers()
        self.assertEqual([l["result"] for l in lines], ["aborted"],
                         self.gate.log()[-4000:])
        self.assertEqual(int(lines[0]["bytes"]), 2 * self.MIB)
        del client, f


if __name__ == "__main__":
    unittest.main()
