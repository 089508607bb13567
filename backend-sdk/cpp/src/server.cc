#include "sftpgate/server.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "backend_service.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"

namespace sftpgate {
namespace {

// Room for the non-payload part of a message (offsets, session, header).
constexpr int kMessageOverhead = 64 * 1024;
// How long Drain reports NOT_SERVING before it stops taking calls (within
// the grace period): health watchers hear of it in well under this.
constexpr std::chrono::milliseconds kNotServingLead{300};

// Thread-safe: grpc::Server may be shut down from any thread; `mu_` makes
// Shutdown() idempotent.
class GrpcBackendServer final : public BackendServer {
 public:
  GrpcBackendServer(std::unique_ptr<BackendService> service,
                    std::unique_ptr<grpc::Server> server, int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}

  ~GrpcBackendServer() override { Shutdown(); }

  int port() const override { return port_; }

  void Wait() override { server_->Wait(); }

  void Drain(int grace_ms) override {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    shut_down_ = true;
    const auto deadline = std::chrono::system_clock::now() +
                          std::chrono::milliseconds(std::max(grace_ms, 0));
    if (auto* health = server_->GetHealthCheckService()) {
      health->SetServingStatus(false);
    }
    // Keep taking calls for a moment while clients that watch the health
    // service (the front end does) stop sending new ones here: a call that
    // reaches a server already shutting down is cancelled rather than
    // refused, and a cancelled upload cannot be retried.
    const auto lead = std::min(std::chrono::milliseconds(std::max(grace_ms, 0)),
                               kNotServingLead);
    if (lead.count() > 0) absl::SleepFor(absl::FromChrono(lead));
    // Past the deadline gRPC cancels the calls still in flight, so
    // streaming handlers see the cancel and abort their uploads.
    server_->Shutdown(deadline);
    server_->Wait();
  }

 private:
  // Declared before server_: the service must outlive the gRPC server.
  const std::unique_ptr<BackendService> service_;
  const std::unique_ptr<grpc::Server> server_;
  const int port_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

bool IsUnixAddress(absl::string_view address) {
  return absl::StartsWith(address, "unix:") ||
         absl::StartsWith(address, "unix-abstract:");
}

// The address clients should dial: `listen_address` with a requested port
// 0 replaced by the port actually bound.
std::string BoundAddress(absl::string_view listen_address, int port) {
  if (port > 0 && absl::EndsWith(listen_address, ":0")) {
    return absl::StrCat(listen_address.substr(0, listen_address.size() - 1),
                        port);
  }
  return std::string(listen_address);
}

}  // namespace

absl::StatusOr<std::unique_ptr<BackendServer>> StartBackendServer(
    const ServeOptions& options, Backend* backend,
    const Capabilities& capabilities) {
  if (options.max_chunk_size == 0 || options.preferred_chunk_size == 0 ||
      options.preferred_chunk_size > options.max_chunk_size ||
      options.max_chunk_size > (1u << 30)) {
    return absl::InvalidArgumentError(
        "chunk sizes must satisfy 0 < preferred <= max <= 1 GiB");
  }
  auto service =
      std::make_unique<BackendService>(backend, capabilities, options);
  if ((options.unix_socket_mode & ~0777) != 0 ||
      (options.unix_socket_mode & 0007) != 0) {
    return absl::InvalidArgumentError(
        "the unix socket mode may grant the owner and group only (e.g. "
        "0600, 0660)");
  }
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::InsecureServerCredentials();
  if (!options.tls.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls =
        MutualTlsServerCredentials(options.tls, "--tls_");
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, credentials, &port);
  const int max_message =
      static_cast<int>(options.max_chunk_size) + kMessageOverhead;
  // Without SO_REUSEPORT a busy port is an error instead of two servers
  // silently sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (!options.http2_bdp_probe) {
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  }
  builder.SetMaxReceiveMessageSize(max_message);
  builder.SetMaxSendMessageSize(max_message);
  if (options.threads > 0) {
    grpc::ResourceQuota quota("sftpgate-backend");
    quota.SetMaxThreads(options.threads);
    builder.SetResourceQuota(quota);
  }
  builder.RegisterService(service.get());
  std::unique_ptr<grpc::Server> server;
  {
    // gRPC creates the socket file while building: with this umask it is
    // never reachable by others, not even for a moment.
    const mode_t previous = umask(0777 & ~options.unix_socket_mode);
    server = builder.BuildAndStart();
    umask(previous);
  }
  if (server == nullptr ||
      (port == 0 && !IsUnixAddress(options.listen_address))) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen_address,
        options.tls.empty() ? ""
                            : " (with TLS: does --tls_key belong to "
                              "--tls_cert?)"));
  }
  if (absl::StartsWith(options.listen_address, "unix:")) {
    // Also when the umask could not have narrowed it (it only removes).
    const std::string path(absl::StripPrefix(options.listen_address, "unix:"));
    chmod(path.c_str(), static_cast<mode_t>(options.unix_socket_mode));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  if (IsUnixAddress(options.listen_address)) port = 0;
  return std::make_unique<GrpcBackendServer>(std::move(service),
                                             std::move(server), port);
}

absl::Status ServeBackend(const ServeOptions& options, Backend* backend,
                          const Capabilities& capabilities) {
  // Block SIGINT/SIGTERM before gRPC starts its threads (they inherit the
  // mask), then take them synchronously with sigwait(): no code runs in a
  // signal handler. SIGHUP (the front end's "reload") is taken too, so
  // that one sent to every sftpgate process does not kill a backend.
  sigset_t stop_signals, previous;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  absl::StatusOr<std::unique_ptr<BackendServer>> server =
      StartBackendServer(options, backend, capabilities);
  if (!server.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return server.status();
  }
  std::fprintf(stderr, "listening on %s\n",
               BoundAddress(options.listen_address, (*server)->port()).c_str());
  std::fflush(stderr);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 &&
         signal_number == SIGHUP) {
    std::fprintf(stderr, "signal %d (SIGHUP): nothing to reload, ignored\n",
                 signal_number);
    std::fflush(stderr);
  }
  std::fprintf(stderr, "signal %d: shutting down\n", signal_number);
  (*server)->Drain(options.shutdown_grace_ms);
  server->reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return absl::OkStatus();
}

}  // namespace sftpgate
