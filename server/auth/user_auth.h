// UserAuthenticator: checks SSH credentials against the users file.
//
// Immutable after construction; safe to call from every event loop at once.

#ifndef SFTPGATE_SERVER_AUTH_USER_AUTH_H_
#define SFTPGATE_SERVER_AUTH_USER_AUTH_H_

#include <libssh/libssh.h>

#include <string>

#include "absl/strings/string_view.h"
#include "server/config/users.h"

namespace sftpgate::server {

class UserAuthenticator {
 public:
  // `users` must outlive the authenticator.
  explicit UserAuthenticator(const UserDb* users);

  // The user when `password` matches their hash, else nullptr and, when
  // `reason` is given, why: "unknown user", "no password set for the user"
  // or "wrong password" (for the operator's log, never for the client). An
  // unknown user, or one without a password, costs a full hash computation
  // too, so that timing does not reveal which names exist: against a dummy
  // hash of the method and cost most users' hashes have (a file of yescrypt
  // users with one SHA-256 straggler makes unknown names cost a yescrypt).
  const UserRecord* CheckPassword(absl::string_view user,
                                  absl::string_view password,
                                  std::string* reason = nullptr) const;

  // The user when `key` (a public key) is one of their authorized keys,
  // else nullptr and, when `reason` is given, why: "unknown user", "no
  // authorized keys for the user" or "key not in the user's
  // authorized_keys". Does not check a signature: libssh does that.
  const UserRecord* CheckPublicKey(absl::string_view user, const ssh_key key,
                                   std::string* reason = nullptr) const;

 private:
  const UserDb* users_;
  // A dummy hash (of no user's password) to burn time on when the user
  // cannot log in by password.
  std::string decoy_hash_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_USER_AUTH_H_
