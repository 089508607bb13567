#include "server/auth/user_auth.h"

#include "absl/container/flat_hash_map.h"
#include "server/config/password_hash.h"

namespace sftpgate::server {

UserAuthenticator::UserAuthenticator(const UserDb* users) : users_(users) {
  // The most common method and cost; a dummy made with a hash of those
  // settings costs exactly what checking a typical user costs.
  absl::flat_hash_map<std::string, int> counts;
  const std::string* model = nullptr;
  int best = 0;
  for (const UserRecord& user : users_->users()) {
    if (user.password_hash.empty()) continue;
    int count = ++counts[CryptMethodAndCost(user.password_hash)];
    if (count > best) {
      best = count;
      model = &user.password_hash;
    }
  }
  if (model != nullptr) decoy_hash_ = DummyHashLike(*model);
  if (decoy_hash_.empty()) {
    decoy_hash_ = HashPassword("decoy").value_or("$6$decoy$");
  }
}

namespace {

const UserRecord* Refuse(const char* why, std::string* reason) {
  if (reason != nullptr) *reason = why;
  return nullptr;
}

}  // namespace

const UserRecord* UserAuthenticator::CheckPassword(absl::string_view name,
                                                   absl::string_view password,
                                                   std::string* reason) const {
  const UserRecord* user = users_->Find(name);
  if (user == nullptr || user->password_hash.empty()) {
    (void)VerifyPassword(password, decoy_hash_);
    return Refuse(
        user == nullptr ? "unknown user" : "no password set for the user",
        reason);
  }
  if (!VerifyPassword(password, user->password_hash)) {
    return Refuse("wrong password", reason);
  }
  return user;
}

const UserRecord* UserAuthenticator::CheckPublicKey(absl::string_view name,
                                                    const ssh_key key,
                                                    std::string* reason) const {
  const UserRecord* user = users_->Find(name);
  if (user == nullptr) return Refuse("unknown user", reason);
  if (user->authorized_keys.empty()) {
    return Refuse("no authorized keys for the user", reason);
  }
  if (key != nullptr) {
    for (const AuthorizedKey& authorized : user->authorized_keys) {
      if (ssh_key_cmp(key, authorized.key.get(), SSH_KEY_CMP_PUBLIC) == 0) {
        return user;
      }
    }
  }
  return Refuse("key not in the user's authorized_keys", reason);
}

}  // namespace sftpgate::server
