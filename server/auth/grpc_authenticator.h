// GrpcAuthenticator: delegated authentication. Sends each attempt to an
// `sftpgate.v1.Authenticator` service (proto/sftpgate/v1/auth.proto) and
// turns its answer into a verdict: `accepted`, and the session's root,
// read-only flag, tenant, attributes and optional backend target.
//
// Calls use gRPC's callback API with a deadline, so no thread waits on
// them. A gRPC error (authenticator down, deadline exceeded) refuses the
// attempt as unavailable (not the client's fault); an answer with an
// invalid root refuses it.
//
// Thread safety: Authenticate() from any thread; Shutdown() once, from a
// thread that is not a gRPC callback.

#ifndef SFTPGATE_SERVER_AUTH_GRPC_AUTHENTICATOR_H_
#define SFTPGATE_SERVER_AUTH_GRPC_AUTHENTICATOR_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "server/auth/authenticator.h"
#include "sftpgate/v1/auth.grpc.pb.h"

namespace sftpgate::server {

class GrpcAuthenticator final : public Authenticator {
 public:
  // `target` is a gRPC target ("unix:/run/auth.sock", "host:port", ...).
  // `credentials` null: plaintext. `tls_server_name`: the name the
  // authenticator's certificate must carry, if not the target's host.
  GrpcAuthenticator(
      const std::string& target, absl::Duration timeout,
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
      const std::string& tls_server_name = "");
  ~GrpcAuthenticator() override;

  void Authenticate(AuthAttempt attempt, Done done) override;

  // Cancels the calls in flight and waits until their callbacks ran (their
  // `done` is called with a refusal); later attempts are refused at once.
  void Shutdown();

  const std::string& target() const { return target_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

 private:
  struct Call;
  void Finish(Call* call, const grpc::Status& status);

  const std::string target_;
  const absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Authenticator::Stub> stub_;

  absl::Mutex mu_;
  absl::flat_hash_set<Call*> calls_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

// The verdict an Authenticator service's answer gives (exposed for tests).
AuthVerdict VerdictFromResponse(const v1::AuthenticateResponse& response);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_AUTH_GRPC_AUTHENTICATOR_H_
