#include "server/auth/grpc_authenticator.h"

#include <libssh/libssh.h>

#include <chrono>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/config/users.h"

namespace sftpgate::server {

struct GrpcAuthenticator::Call {
  grpc::ClientContext context;
  v1::AuthenticateRequest request;
  v1::AuthenticateResponse response;
  Done done;
};

namespace {

AuthVerdict Refused(std::string reason) {
  AuthVerdict verdict;
  verdict.reason = std::move(reason);
  return verdict;
}

// The key's algorithm name and its SSH wire-format blob.
bool FillPublicKey(ssh_key key, v1::PublicKey* out) {
  char* base64 = nullptr;
  if (ssh_pki_export_pubkey_base64(key, &base64) != SSH_OK) return false;
  std::string blob;
  bool ok = absl::Base64Unescape(base64, &blob);
  ssh_string_free_char(base64);
  if (!ok) return false;
  out->set_algorithm(ssh_key_type_to_char(ssh_key_type(key)));
  out->set_blob(std::move(blob));
  return true;
}

}  // namespace

AuthVerdict VerdictFromResponse(const v1::AuthenticateResponse& response) {
  if (!response.accepted()) {
    return Refused(response.reason().empty()
                       ? "refused by the authenticator"
                       : absl::StrCat("authenticator: ", response.reason()));
  }
  absl::StatusOr<std::string> root =
      NormalizeRoot(response.root().empty() ? "/" : response.root());
  if (!root.ok()) {
    return Refused(absl::StrCat("authenticator returned a root that ",
                                root.status().message()));
  }
  AuthVerdict verdict;
  verdict.accepted = true;
  verdict.identity.root = *std::move(root);
  verdict.identity.read_only = response.read_only();
  verdict.identity.tenant = response.tenant();
  verdict.identity.limits.quota_bytes = response.quota_bytes();
  verdict.identity.limits.quota_files = response.quota_files();
  verdict.identity.limits.upload_bytes_per_second =
      response.upload_kib_per_second() * 1024;
  verdict.identity.limits.download_bytes_per_second =
      response.download_kib_per_second() * 1024;
  verdict.identity.attributes.insert(response.attributes().begin(),
                                     response.attributes().end());
  verdict.identity.backend_target = response.backend_target();
  return verdict;
}

namespace {

std::shared_ptr<grpc::Channel> MakeChannel(
    const std::string& target,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    const std::string& tls_server_name) {
  grpc::ChannelArguments args;
  if (!tls_server_name.empty()) args.SetSslTargetNameOverride(tls_server_name);
  return grpc::CreateCustomChannel(target,
                                   credentials != nullptr
                                       ? std::move(credentials)
                                       : grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace

GrpcAuthenticator::GrpcAuthenticator(
    const std::string& target, absl::Duration timeout,
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    const std::string& tls_server_name)
    : target_(target),
      timeout_(timeout),
      channel_(MakeChannel(target, std::move(credentials), tls_server_name)),
      stub_(v1::Authenticator::NewStub(channel_)) {}

GrpcAuthenticator::~GrpcAuthenticator() { Shutdown(); }

void GrpcAuthenticator::Authenticate(AuthAttempt attempt, Done done) {
  auto call = std::make_unique<Call>();
  v1::AuthenticateRequest& request = call->request;
  request.set_user(attempt.user);
  request.set_remote_address(attempt.remote_address);
  request.set_client_version(attempt.client_version);
  request.set_session_id(attempt.session_id);
  if (attempt.method == AuthMethod::kPublicKey) {
    v1::PublicKey* key = request.mutable_public_key();
    key->set_signature_verified(attempt.signature_verified);
    if (attempt.public_key == nullptr ||
        !FillPublicKey(attempt.public_key.get(), key)) {
      std::move(done)(Refused("cannot encode the public key"));
      return;
    }
  } else {
    request.set_password(attempt.password);
  }
  call->done = std::move(done);
  call->context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoMilliseconds(timeout_));
  Call* raw = call.get();
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      AuthVerdict verdict = Refused("server shutting down");
      verdict.unavailable = true;
      std::move(call->done)(std::move(verdict));
      return;
    }
    calls_.insert(raw);
    call.release();  // owned by calls_ until Finish
  }
  stub_->async()->Authenticate(
      &raw->context, &raw->request, &raw->response,
      [this, raw](grpc::Status status) { Finish(raw, status); });
}

void GrpcAuthenticator::Finish(Call* raw, const grpc::Status& status) {
  std::unique_ptr<Call> call(raw);
  // The password is not needed any more.
  call->request.clear_password();
  AuthVerdict verdict;
  if (status.ok()) {
    verdict = VerdictFromResponse(call->response);
  } else {
    verdict = Refused(
        absl::StrCat("authenticator unavailable: ", status.error_message()));
    verdict.unavailable = true;
  }
  std::move(call->done)(std::move(verdict));
  absl::MutexLock lock(&mu_);
  calls_.erase(raw);
  // Under the lock: Shutdown() returns only once every call is gone.
  call.reset();
}

void GrpcAuthenticator::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (Call* call : calls_) call->context.TryCancel();
  mu_.Await(absl::Condition(
      +[](absl::flat_hash_set<Call*>* calls) { return calls->empty(); },
      &calls_));
}

}  // namespace sftpgate::server
