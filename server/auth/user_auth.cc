#include "server/auth/user_auth.h"

#include "server/config/password_hash.h"

namespace sftpgate::server {

UserAuthenticator::UserAuthenticator(const UserDb* users) : users_(users) {
  // Verifying against an existing user's hash costs exactly what a real
  // check costs (same method and parameters).
  for (const UserRecord& user : users_->users()) {
    if (!user.password_hash.empty()) {
      decoy_hash_ = user.password_hash;
      break;
    }
  }
  if (decoy_hash_.empty()) {
    decoy_hash_ = HashPassword("decoy").value_or("$6$decoy$");
  }
}

const UserRecord* UserAuthenticator::CheckPassword(
    absl::string_view name, absl::string_view password) const {
  const UserRecord* user = users_->Find(name);
  if (user == nullptr || user->password_hash.empty()) {
    (void)VerifyPassword(password, decoy_hash_);
    return nullptr;
  }
  return VerifyPassword(password, user->password_hash) ? user : nullptr;
}

const UserRecord* UserAuthenticator::CheckPublicKey(absl::string_view name,
                                                    const ssh_key key) const {
  const UserRecord* user = users_->Find(name);
  if (user == nullptr || key == nullptr) return nullptr;
  for (const AuthorizedKey& authorized : user->authorized_keys) {
    if (ssh_key_cmp(key, authorized.key.get(), SSH_KEY_CMP_PUBLIC) == 0) {
      return user;
    }
  }
  return nullptr;
}

}  // namespace sftpgate::server
