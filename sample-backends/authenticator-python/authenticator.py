#!/usr/bin/python3
"""A sample sftpgate Authenticator service (delegated authentication).

sftpgate started with `--auth grpc:TARGET` sends every password and
public-key attempt for a user it does not know locally to this service
(proto/sftpgate/v1/auth.proto), which answers with the verdict and the
session's attributes: root, read-only, tenant, free-form attributes and,
optionally, the backend that serves the user.

    authenticator.py --listen unix:/run/sftpgate/auth.sock --users users.toml
    authenticator.py --hash-password < password.txt      # for the file

The users file (TOML, or JSON with the same structure as a list "user"):

    [[user]]
    name = "carol"
    password_pbkdf2 = "pbkdf2_sha256$600000$...$..."   # --hash-password
    authorized_keys = ["ssh-ed25519 AAAAC3Nza... carol@laptop"]
    tenant = "acme"          # optional: sftpgate routes by tenant
    root = "/carol"          # optional, default "/"
    read_only = false        # optional
    backend = ""             # optional: gRPC target of this user's backend
    quota_bytes = 0          # optional limits (0: none), as in sftpgate's
    quota_files = 0          #   users file
    upload_kib_per_second = 0
    download_kib_per_second = 0
    [user.attributes]        # optional, copied into Session.attributes
    plan = "gold"

SIGHUP reloads the users file (a bad file is reported and the old one
kept). Passwords are never logged. Run it with /usr/bin/python3 and the
generated stubs on PYTHONPATH (the CMake launcher
build/bin/sftpgate-python-authenticator does that).
"""

import base64
import concurrent.futures
import hashlib
import hmac
import json
import logging
import secrets
import sys
import threading
import tomllib

import grpc

try:
    from sftpgate.v1 import auth_pb2, auth_pb2_grpc
    from sftpgate_sdk import cli
    from sftpgate_sdk.server import (add_listener_arguments,
                                     listener_options, serve_service)
except ImportError as exc:  # pragma: no cover - environment problem
    raise SystemExit(
        "authenticator: the generated stubs were not found (%s); build the "
        "project and put BUILD/python on PYTHONPATH" % exc) from exc

LOG = logging.getLogger("authenticator")
HASH_SCHEME = "pbkdf2_sha256"
HASH_ITERATIONS = 600000
# Per-user limits passed on to sftpgate (AuthenticateResponse fields).
LIMIT_KEYS = ("quota_bytes", "quota_files", "upload_kib_per_second",
              "download_kib_per_second")


def hash_password(password, iterations=HASH_ITERATIONS, salt=None):
    """"pbkdf2_sha256$ITERATIONS$SALT$HASH" (salt and hash in base64)."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return "$".join([HASH_SCHEME, str(iterations),
                     base64.b64encode(salt).decode(),
                     base64.b64encode(digest).decode()])


def verify_password(password, encoded):
    try:
        scheme, iterations, salt, expected = encoded.split("$")
        if scheme != HASH_SCHEME:
            return False
        actual = hash_password(password, int(iterations), base64.b64decode(salt))
    except ValueError:
        return False
    return hmac.compare_digest(actual.split("$")[3], expected)


class User:
    """One [[user]] entry, validated."""

    def __init__(self, entry):
        self.name = entry["name"]
        self.password_hash = entry.get("password_pbkdf2", "")
        self.keys = set()
        for line in entry.get("authorized_keys", []):
            parts = line.split()
            if len(parts) < 2:
                raise ValueError("user %r: bad authorized key" % self.name)
            self.keys.add((parts[0], base64.b64decode(parts[1])))
        self.tenant = entry.get("tenant", "")
        self.root = entry.get("root", "/")
        self.read_only = bool(entry.get("read_only", False))
        self.backend = entry.get("backend", "")
        self.attributes = {str(k): str(v)
                           for k, v in entry.get("attributes", {}).items()}
        self.limits = {key: int(entry.get(key, 0)) for key in LIMIT_KEYS}
        if any(value < 0 for value in self.limits.values()):
            raise ValueError("user %r: negative limit" % self.name)
        if not self.password_hash and not self.keys:
            raise ValueError("user %r has no credential" % self.name)

    def response(self):
        return auth_pb2.AuthenticateResponse(
            accepted=True, root=self.root, read_only=self.read_only,
            tenant=self.tenant, attributes=self.attributes,
            backend_target=self.backend, **self.limits)


def load_users(path):
    with open(path, "rb") as f:
        data = json.load(f) if path.endswith(".json") else tomllib.load(f)
    users = {}
    for entry in data.get("user", []):
        user = User(entry)
        if user.name in users:
            raise ValueError("user %r is defined twice" % user.name)
        users[user.name] = user
    return users


class Authenticator(auth_pb2_grpc.AuthenticatorServicer):

    def __init__(self, users_path):
        self._path = users_path
        self._lock = threading.Lock()
        self._users = load_users(users_path)
        # Unknown users cost a hash too, so timing does not tell names.
        self._decoy = hash_password(secrets.token_hex(8))

    def reload(self):
        try:
            users = load_users(self._path)
        except (OSError, ValueError, KeyError, tomllib.TOMLDecodeError) as exc:
            LOG.error("reload of %s failed, keeping the old users: %s",
                      self._path, exc)
            return
        with self._lock:
            self._users = users
        LOG.info("reloaded %s: %d users", self._path, len(users))

    def Authenticate(self, request, context):
        with self._lock:
            user = self._users.get(request.user)
        method = request.WhichOneof("credential")
        accepted, reason = False, "unknown user"
        if method == "password":
            # A user without a password is checked against the decoy too.
            has_password = user is not None and bool(user.password_hash)
            ok = verify_password(request.password, user.password_hash
                                 if has_password else self._decoy)
            if user is not None:
                accepted, reason = ok and has_password, "wrong password"
        elif method == "public_key" and user is not None:
            key = (request.public_key.algorithm, request.public_key.blob)
            accepted, reason = key in user.keys, "key not authorized"
        elif user is not None:
            reason = "no credential"
        LOG.info("%s user=%s remote=%s method=%s%s",
                 "accepted" if accepted else "refused", request.user,
                 request.remote_address, method,
                 "" if accepted else " reason=" + reason)
        if not accepted:
            return auth_pb2.AuthenticateResponse(accepted=False, reason=reason)
        return user.response()


def serve(args):
    authenticator = Authenticator(args.users)
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(
        max_workers=args.workers, thread_name_prefix="authenticator"))
    auth_pb2_grpc.add_AuthenticatorServicer_to_server(authenticator, server)
    serve_service(server, args.listen, "authenticator",
                  on_hup=authenticator.reload, **listener_options(args))


def main():
    parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:7100",
                        help="host:port (port 0: any free port) or unix:/path")
    parser.add_argument("--users", help="users file (TOML or .json)")
    parser.add_argument("--workers", type=int, default=8,
                        help="threads answering calls")
    parser.add_argument("--hash-password", action="store_true",
                        help="read a password on stdin, print its hash")
    add_listener_arguments(parser)
    args = parser.parse_args()
    if args.hash_password:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise SystemExit("authenticator: no password on stdin")
        print(hash_password(password))
        return
    if not args.users:
        parser.error("--users is required")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    serve(args)


if __name__ == "__main__":
    main()
