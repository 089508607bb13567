"""A minimal inetd for the OpenSSH reference: binds HOST:0, prints
"listening on HOST:PORT" (the port it got), and runs COMMAND... once per
connection with the connection as its stdin and stdout (`sshd -i`).
sshd itself cannot bind port 0 and say which port it got.

Usage: inetd.py HOST COMMAND...
"""

import socket
import subprocess
import sys


def main(host, command):
    listener = socket.socket()
    listener.bind((host, 0))
    listener.listen(128)
    print(f"listening on {host}:{listener.getsockname()[1]}", flush=True)
    while True:
        conn, _ = listener.accept()
        subprocess.Popen(command, stdin=conn, stdout=conn)
        conn.close()  # the child holds its own copy


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
