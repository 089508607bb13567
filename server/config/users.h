// The users file: who may log in, with which credentials, and what their
// sessions see. TOML, one [[user]] table per user:
//
//   [[user]]
//   name = "alice"
//   password_hash = "$y$j9T$..."       # from `sftpgate hash-password`
//   authorized_keys = ["ssh-ed25519 AAAAC3... alice@laptop"]
//   root = "/alice"                     # optional, default "/"
//   read_only = false                   # optional
//   tenant = "acme"                     # optional: selects the backend
//                                       # route [tenants.acme] (settings)
//   quota_bytes = 10737418240           # optional: bytes stored at most
//   quota_files = 100000                # optional: files stored at most
//   upload_kib_per_second = 4096        # optional: rate over all sessions
//   download_kib_per_second = 4096      # optional
//
// Loading validates everything up front (unique names, at least one
// credential, crypt(3) hashes only, parseable keys, no unknown keys) and
// fails with a message naming the file, line, user and field.
//
// A loaded UserDb is immutable: safe to read from many threads.

#ifndef SFTPGATE_SERVER_CONFIG_USERS_H_
#define SFTPGATE_SERVER_CONFIG_USERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "server/config/user_limits.h"

struct ssh_key_struct;

namespace sftpgate::server {

struct AuthorizedKey {
  std::string type;     // as written, e.g. "ssh-ed25519"
  std::string comment;  // may be empty
  // The parsed public key (libssh), never null in a loaded UserDb.
  std::shared_ptr<ssh_key_struct> key;
};

struct UserRecord {
  std::string name;
  std::string password_hash;  // crypt(3) hash; empty: no password login
  std::vector<AuthorizedKey> authorized_keys;
  std::string root = "/";  // absolute, normalized
  bool read_only = false;
  std::string tenant;  // empty: none
  UserLimits limits;   // quotas and rates (0: none)
};

class UserDb {
 public:
  // The user named `name`, or nullptr.
  const UserRecord* Find(absl::string_view name) const;
  const std::vector<UserRecord>& users() const { return users_; }

 private:
  friend absl::StatusOr<UserDb> ParseUsers(absl::string_view,
                                           absl::string_view);
  std::vector<UserRecord> users_;
  absl::flat_hash_map<std::string, size_t> by_name_;
};

// Parses users-file TOML text; `source` names it in messages.
absl::StatusOr<UserDb> ParseUsers(absl::string_view toml,
                                  absl::string_view source);
// Reads and parses the users file at `path`.
absl::StatusOr<UserDb> LoadUsersFile(const std::string& path);

// Normalizes a session root: absolute, no "." or empty components, no
// trailing '/'. ".." is refused rather than resolved.
absl::StatusOr<std::string> NormalizeRoot(absl::string_view root);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_USERS_H_
