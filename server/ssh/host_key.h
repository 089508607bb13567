// The server's SSH host key: loaded from a file, or generated and saved
// there (ed25519, mode 0600) when the file does not exist yet.

#ifndef SFTPGATE_SERVER_SSH_HOST_KEY_H_
#define SFTPGATE_SERVER_SSH_HOST_KEY_H_

#include <libssh/libssh.h>

#include <string>

#include "absl/status/statusor.h"

namespace sftpgate::server {

// Returns the private key at `path` (the caller owns it: ssh_key_free, or
// hand it to SSH_BIND_OPTIONS_IMPORT_KEY). A missing file is created with a
// new ed25519 key, and its missing parent directories with mode 0700;
// `*generated` (optional) tells which happened. An unreadable or
// unparseable file is an error naming the path; so is a public key (a
// `.pub` file) and a key file readable by group or others.
absl::StatusOr<ssh_key> LoadOrCreateHostKey(const std::string& path,
                                            bool* generated = nullptr);

// Returns the private key at `path`, which must exist (the reload on
// SIGHUP never creates one). Same checks and errors as above.
absl::StatusOr<ssh_key> LoadHostKey(const std::string& path);

// "SHA256:..." fingerprint of a key's public half, for the log (host keys
// and the public keys users log in with).
std::string KeyFingerprint(const ssh_key key);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_HOST_KEY_H_
