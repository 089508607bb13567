// ChainAuthenticator: the users file first, then a delegate.
//
// A user name found in the users file is decided by the file alone (a
// local account cannot be taken over through the delegate, and local
// accounts keep working while the delegate is down); every other name goes
// to the delegate (e.g. GrpcAuthenticator). Without a delegate the users
// file decides everything.
//
// Thread safety: as its parts (thread-safe).

#ifndef SFTPGATE_SERVER_AUTH_CHAIN_AUTHENTICATOR_H_
#define SFTPGATE_SERVER_AUTH_CHAIN_AUTHENTICATOR_H_

#include <utility>

#include "server/auth/authenticator.h"
#include "server/auth/local_authenticator.h"

namespace sftpgate::server {

class ChainAuthenticator final : public Authenticator {
 public:
  // Neither is owned; `delegate` may be null.
  ChainAuthenticator(LocalAuthenticator* local, Authenticator* delegate)
      : local_(local), delegate_(delegate) {}

  void Authenticate(AuthAttempt attempt, Done done) override {
    Authenticator* decider = delegate_ == nullptr || local_->Knows(attempt.user)
                                 ? static_cast<Authenticator*>(local_)
                                 : delegate_;
    decider->Authenticate(std::move(attempt), std::move(done));
  }

 private:
  LocalAuthenticator* const local_;
  Authenticator* const delegate_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_CHAIN_AUTHENTICATOR_H_
