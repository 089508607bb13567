#include "server/ssh/backend_router.h"

namespace sftpgate::server {

BackendRouter::BackendRouter(BackendChannelOptions defaults,
                             std::map<std::string, std::string> tenant_routes)
    : defaults_(std::move(defaults)), tenant_routes_(std::move(tenant_routes)) {
  absl::MutexLock lock(&mu_);
  BackendForLocked(defaults_.target);
  for (const auto& [tenant, target] : tenant_routes_) BackendForLocked(target);
}

std::string BackendRouter::TargetFor(const Identity& who) const {
  if (!who.backend_target.empty()) return who.backend_target;
  auto route = tenant_routes_.find(who.tenant);
  if (!who.tenant.empty() && route != tenant_routes_.end()) {
    return route->second;
  }
  return defaults_.target;
}

const std::shared_ptr<const backend::BackendStub>&
BackendRouter::BackendForLocked(const std::string& target) {
  auto [it, inserted] = backends_.try_emplace(target);
  if (inserted) {
    BackendChannelOptions options = defaults_;
    options.target = target;
    it->second = MakeBackendStub(options);
  }
  return it->second;
}

std::shared_ptr<const backend::BackendStub> BackendRouter::StubFor(
    const Identity& who) {
  std::string target = TargetFor(who);
  absl::MutexLock lock(&mu_);
  return BackendForLocked(target);
}

std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>>
BackendRouter::Channels() {
  std::vector<std::pair<std::string, std::shared_ptr<grpc::Channel>>> result;
  absl::MutexLock lock(&mu_);
  for (const auto& [target, backend] : backends_) {
    result.emplace_back(target, backend->channel());
  }
  return result;
}

}  // namespace sftpgate::server
