#include "server/auth/authenticator.h"

#include <algorithm>
#include <string>
#include <utility>

namespace sftpgate::server {

const char* AuthMethodName(AuthMethod method) {
  switch (method) {
    case AuthMethod::kPassword:
      return "password";
    case AuthMethod::kKeyboardInteractive:
      return "keyboard-interactive";
    case AuthMethod::kPublicKey:
      return "publickey";
  }
  return "unknown";
}

namespace {

// Best effort: the bytes may have been copied elsewhere before (libssh,
// gRPC), but this copy does not linger in freed memory.
void Wipe(std::string* secret) {
  std::fill(secret->begin(), secret->end(), '\0');
  secret->clear();
}

}  // namespace

AuthAttempt::AuthAttempt(AuthAttempt&& other) { *this = std::move(other); }

AuthAttempt& AuthAttempt::operator=(AuthAttempt&& other) {
  if (this == &other) return *this;
  method = other.method;
  user = std::move(other.user);
  remote_address = std::move(other.remote_address);
  client_version = std::move(other.client_version);
  session_id = std::move(other.session_id);
  Wipe(&password);
  password = other.password;
  Wipe(&other.password);
  public_key = std::move(other.public_key);
  signature_verified = other.signature_verified;
  return *this;
}

AuthAttempt::~AuthAttempt() { Wipe(&password); }

}  // namespace sftpgate::server
