// Authenticator: decides SSH login attempts, asynchronously.
//
// A connection hands every password, keyboard-interactive or public-key
// attempt to one Authenticator and answers the client when the verdict
// comes back, so that slow checks (password hashing on a worker pool, a
// gRPC call to a delegated authenticator) never block an event loop.
//
// Implementations: LocalAuthenticator (the users file), GrpcAuthenticator
// (the Authenticator service of auth.proto), ChainAuthenticator (local
// users first, then a delegate).
//
// Thread safety: Authenticate() may be called from any thread at once.

#ifndef SFTPGATE_SERVER_AUTH_AUTHENTICATOR_H_
#define SFTPGATE_SERVER_AUTH_AUTHENTICATOR_H_

#include <map>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "server/config/user_limits.h"

struct ssh_key_struct;

namespace sftpgate::server {

enum class AuthMethod { kPassword, kKeyboardInteractive, kPublicKey };

// "password", "keyboard-interactive", "publickey" (as in the SSH protocol).
const char* AuthMethodName(AuthMethod method);

// One attempt. Holds a secret: never log it; the password is wiped when
// the attempt is destroyed.
struct AuthAttempt {
  AuthAttempt() = default;
  // Moves wipe the source's password (a moved-from short string keeps its
  // bytes in place).
  AuthAttempt(AuthAttempt&& other);
  AuthAttempt& operator=(AuthAttempt&& other);
  ~AuthAttempt();

  AuthMethod method = AuthMethod::kPassword;
  std::string user;            // as the client sent it
  std::string remote_address;  // "ip:port" or "[v6]:port"
  std::string client_version;  // the client's SSH identification string
  std::string session_id;      // the id later sent as Session.session_id
  // kPassword and kKeyboardInteractive: what the client typed.
  std::string password;
  // kPublicKey: the offered key (public half), and whether the client has
  // proven it holds the private key (false: a probe, "would you take it?").
  std::shared_ptr<ssh_key_struct> public_key;
  bool signature_verified = false;
};

// Who an accepted attempt authenticated, and what their session sees.
struct Identity {
  std::string user;
  std::string root = "/";  // absolute, normalized
  bool read_only = false;
  std::string tenant;  // empty when not multi-tenant
  std::map<std::string, std::string> attributes;
  // gRPC target of the backend serving this user; empty: the tenant's
  // route, else the default backend.
  std::string backend_target;
  // Quotas and transfer rates (0: none).
  UserLimits limits;
};

struct AuthVerdict {
  bool accepted = false;
  // Why an attempt was refused (for the log; never sent to the client).
  std::string reason;
  // Refused because the credentials could not be checked (password-check
  // queue full, delegated authenticator unreachable or timed out), not
  // because they were wrong: never counted towards a source's ban.
  bool unavailable = false;
  Identity identity;  // meaningful when accepted
};

class Authenticator {
 public:
  using Done = absl::AnyInvocable<void(AuthVerdict) &&>;

  virtual ~Authenticator() = default;

  // Decides `attempt` and calls `done` exactly once with the verdict, on
  // any thread, possibly before returning. (A verdict still pending when
  // the authenticator is destroyed is dropped without calling `done`.)
  virtual void Authenticate(AuthAttempt attempt, Done done) = 0;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_AUTHENTICATOR_H_
