// Password hashes in crypt(3) format (libcrypt): creating, checking the
// format of, and verifying them.
//
// Thread-safe: every function may be called from any thread (each thread
// uses its own crypt_r work area).

#ifndef SFTPGATE_SERVER_CONFIG_PASSWORD_HASH_H_
#define SFTPGATE_SERVER_CONFIG_PASSWORD_HASH_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server {

// Hashes `password` with a fresh random salt: yescrypt ("$y$") when libcrypt
// offers it, SHA-512 crypt ("$6$") otherwise.
absl::StatusOr<std::string> HashPassword(absl::string_view password);

// OK when `hash` looks like a crypt(3) hash of a supported, non-obsolete
// method ($y$, $gy$, $7$, $2b$/$2a$/$2y$, $6$, $5$). The message says what
// is wrong; it never echoes the value (it may be a pasted password).
absl::Status CheckCryptHashFormat(absl::string_view hash);

// The part of crypt(3) `hash` that sets its cost: the method and its
// parameters without salt and digest ("$y$j9T$", "$6$rounds=9000$",
// "$2b$12$").
std::string CryptMethodAndCost(absl::string_view hash);

// A hash of a random password with the method, cost and salt of `hash`
// (checking against it costs what checking against `hash` costs); "" if
// libcrypt refuses `hash`.
std::string DummyHashLike(const std::string& hash);

// True when `password` hashes to `hash`. Runs the full hash computation
// even when the result cannot match, and compares in constant time.
bool VerifyPassword(absl::string_view password, const std::string& hash);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_PASSWORD_HASH_H_
