// LocalAuthenticator: the users file (see server/config/users.h) as an
// Authenticator.
//
// Password checks (crypt(3), tens of milliseconds each) run on a
// WorkerPool; public-key checks are a comparison and are answered at once.
// The users file can be replaced while the server runs (SIGHUP): attempts
// already started finish against the file they started with.
//
// Thread safety: every method is thread-safe.

#ifndef SFTPGATE_SERVER_AUTH_LOCAL_AUTHENTICATOR_H_
#define SFTPGATE_SERVER_AUTH_LOCAL_AUTHENTICATOR_H_

#include <cstddef>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/authenticator.h"
#include "server/common/worker_pool.h"
#include "server/config/users.h"

namespace sftpgate::server {

class LocalAuthenticator final : public Authenticator {
 public:
  // `pool` runs the password checks and must outlive this object.
  LocalAuthenticator(UserDb users, WorkerPool* pool);
  ~LocalAuthenticator() override;

  // Serves `users` from now on.
  void Replace(UserDb users);
  // True when the users file has a user named `user`.
  bool Knows(absl::string_view user) const;
  size_t user_count() const;

  void Authenticate(AuthAttempt attempt, Done done) override;

 private:
  struct Snapshot;
  std::shared_ptr<const Snapshot> snapshot() const;

  WorkerPool* const pool_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_ ABSL_GUARDED_BY(mu_);
};

// The identity the users file gives `user`.
Identity IdentityOf(const UserRecord& user);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_LOCAL_AUTHENTICATOR_H_
