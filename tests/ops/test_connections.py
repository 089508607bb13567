"""Connections on one event loop are independent: clients that come and go
(clean logouts, TCP resets mid-handshake) never end another client's
transfer. (libssh pins a poll error on whichever session happened to be
polling a shared event; sftpgate gives each session an event of its own.)"""

import os
import socket
import struct
import threading
import unittest

import paramiko

from ops_harness import HOST, OpsTestCase

PASSWORD = "alice-Secret-42"


class ConnectionsTest(OpsTestCase):

    def test_churn_does_not_end_a_transfer_on_the_same_loop(self):
        self.add_user("alice", PASSWORD)
        self.add_user("bob", "bob-Secret-42")
        # One loop: every connection shares it with the transfer.
        self.start_gate(self.start_memory_backend(),
                        ["--event-loop-threads=1"])
        stop = threading.Event()
        churned = []

        def churn():
            while not stop.is_set():
                try:
                    transport = self.login("alice")
                    paramiko.SFTPClient.from_transport(transport).listdir("/")
                    transport.close()
                    # A client that vanishes: RST in the middle of the
                    # key exchange.
                    raw = socket.create_connection((HOST, self.port), 5)
                    raw.sendall(b"SSH-2.0-vanishing\r\n")
                    raw.recv(64)
                    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
                    raw.close()
                    churned.append(1)
                except Exception:  # pylint: disable=broad-except
                    if not stop.is_set():
                        raise

        threads = [threading.Thread(target=churn, daemon=True)
                   for _ in range(3)]
        for thread in threads:
            thread.start()
        data = os.urandom(16 << 20)
        try:
            sftp = self.sftp("bob")
            for i in range(3):
                with sftp.open("/big-%d.bin" % i, "wb") as f:
                    f.set_pipelined(True)
                    f.write(data)
                with sftp.open("/big-%d.bin" % i, "rb") as f:
                    f.prefetch()
                    self.assertEqual(f.read(), data)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
        self.assertGreater(len(churned), 5)
        self.assertNotRegex(self.gate.log(),
                            r"session_end [^\n]*user=bob [^\n]*Socket error")


if __name__ == "__main__":
    unittest.main()
