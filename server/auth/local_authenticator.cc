#include "server/auth/local_authenticator.h"

#include <utility>

#include "server/auth/user_auth.h"

namespace sftpgate::server {

// One loaded users file and the checker over it (which points into it, so
// the two live and die together and never move).
struct LocalAuthenticator::Snapshot {
  explicit Snapshot(UserDb db) : users(std::move(db)), auth(&users) {}
  const UserDb users;
  const UserAuthenticator auth;
};

namespace {

// `reason`: why `user` is null (see UserAuthenticator).
AuthVerdict VerdictFor(const UserRecord* user, std::string reason) {
  AuthVerdict verdict;
  if (user == nullptr) {
    verdict.reason = std::move(reason);
    return verdict;
  }
  verdict.accepted = true;
  verdict.identity = IdentityOf(*user);
  return verdict;
}

}  // namespace

Identity IdentityOf(const UserRecord& user) {
  Identity identity;
  identity.user = user.name;
  identity.root = user.root;
  identity.read_only = user.read_only;
  identity.tenant = user.tenant;
  identity.limits = user.limits;
  return identity;
}

LocalAuthenticator::LocalAuthenticator(UserDb users, WorkerPool* pool)
    : pool_(pool), snapshot_(std::make_shared<Snapshot>(std::move(users))) {}

LocalAuthenticator::~LocalAuthenticator() = default;

void LocalAuthenticator::Replace(UserDb users) {
  auto next = std::make_shared<const Snapshot>(std::move(users));
  absl::MutexLock lock(&mu_);
  snapshot_.swap(next);
  // The old snapshot goes when its last pending check lets go of it.
}

std::shared_ptr<const LocalAuthenticator::Snapshot>
LocalAuthenticator::snapshot() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

bool LocalAuthenticator::Knows(absl::string_view user) const {
  return snapshot()->users.Find(user) != nullptr;
}

size_t LocalAuthenticator::user_count() const {
  return snapshot()->users.users().size();
}

void LocalAuthenticator::Authenticate(AuthAttempt attempt, Done done) {
  std::shared_ptr<const Snapshot> users = snapshot();
  if (attempt.method == AuthMethod::kPublicKey) {
    std::string reason;
    const UserRecord* user = users->auth.CheckPublicKey(
        attempt.user, attempt.public_key.get(), &reason);
    std::move(done)(VerdictFor(user, std::move(reason)));
    return;
  }
  // The task owns `done` until it runs; a refused task hands it back
  // through `pending` so the caller still gets its one verdict.
  auto pending = std::make_shared<Done>(std::move(done));
  bool queued = pool_->TrySubmit(
      [users, attempt = std::move(attempt), pending]() mutable {
        std::string reason;
        const UserRecord* user =
            users->auth.CheckPassword(attempt.user, attempt.password, &reason);
        std::move (*pending)(VerdictFor(user, std::move(reason)));
      });
  if (!queued) {
    AuthVerdict busy;
    busy.reason = "too many authentication attempts queued";
    busy.unavailable = true;
    std::move (*pending)(std::move(busy));
  }
}

}  // namespace sftpgate::server
