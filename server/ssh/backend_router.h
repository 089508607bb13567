// BackendRouter: which backend serves an authenticated session.
//
// In order: the backend target the authenticator named for the user
// (AuthenticateResponse.backend_target), else the route of the user's
// tenant (--tenant-backend NAME=TARGET / [tenants.NAME] backend = ...),
// else the default backend (--backend). A tenant without a route uses the
// default backend; its sessions still carry the tenant (Session.tenant).
//
// One gRPC channel and stub per distinct target, created on first use and
// shared by every session routed there (MakeBackendChannel).
//
// Thread safety: thread-safe.

#ifndef SFTPGATE_SERVER_SSH_BACKEND_ROUTER_H_
#define SFTPGATE_SERVER_SSH_BACKEND_ROUTER_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"
#include "server/auth/authenticator.h"
#include "server/backend/backend_channel.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::server {

class BackendRouter {
 public:
  // `defaults.target` is the default backend; every channel is made with
  // `defaults` and its own target. `tenant_routes` maps tenant -> target.
  BackendRouter(BackendChannelOptions defaults,
                std::map<std::string, std::string> tenant_routes);

  // The target serving `who`.
  std::string TargetFor(const Identity& who) const;
  // The stub for TargetFor(who).
  std::shared_ptr<const backend::BackendStub> StubFor(const Identity& who);

  // Every target in use so far with its channel (the default and the
  // tenant routes are created up front).
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>>
  Channels();

 private:
  const std::shared_ptr<const backend::BackendStub>& BackendForLocked(
      const std::string& target) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const BackendChannelOptions defaults_;
  const std::map<std::string, std::string> tenant_routes_;
  absl::Mutex mu_;
  // std::map: Channels() lists targets in a stable order.
  std::map<std::string, std::shared_ptr<const backend::BackendStub>> backends_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_BACKEND_ROUTER_H_
