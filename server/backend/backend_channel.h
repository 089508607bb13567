// The gRPC client side of the front end: one channel (and stub) per backend
// target, shared by every session that uses that target.
//
// The channel is configured for a pool of interchangeable backend replicas:
//
//  - Load balancing: `round_robin` over every address the target resolves
//    to ("ipv4:10.0.0.1:7000,10.0.0.2:7000", "dns:///backends:7000", or a
//    single "host:port" / "unix:/path"). Each call picks the next ready
//    replica; a stream (Read, Write, ListDir) stays on the replica it
//    started on for its whole life, as gRPC pins a call to one subchannel.
//  - Health: client-side health checking (`healthCheckConfig`, protocol
//    grpc.health.v1.Health, overall server status "") takes a replica out of
//    the rotation while it reports NOT_SERVING (e.g. draining on SIGTERM);
//    a backend without the health service is treated as healthy.
//  - Retries: unary calls that change nothing (Describe, Stat, RealPath,
//    ReadLink, StatFs) and the ListDir stream (before its first response)
//    are retried on UNAVAILABLE, up to 3 attempts with 50-500 ms backoff,
//    within the call's own deadline, so a replica that goes away between
//    pick and send costs no client error. Modifying calls and the Read and
//    Write streams are never retried by gRPC: the session reports their
//    failure to the client instead.
//  - Message size: send and receive limits raised above gRPC's 4 MiB
//    default so chunks up to the contract's 1 MiB and large ListDir batches
//    always fit.
//
// Thread safety: the functions are thread-safe; the returned channel and
// stub are thread-safe and meant to be shared.

#ifndef SFTPGATE_SERVER_BACKEND_BACKEND_CHANNEL_H_
#define SFTPGATE_SERVER_BACKEND_BACKEND_CHANNEL_H_

#include <memory>
#include <string>

#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "server/backend/backend_stub.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::server {

struct BackendChannelOptions {
  // gRPC target, e.g. "127.0.0.1:7000", "ipv4:a:7000,b:7000",
  // "dns:///backends:7000", "unix:/run/sftpgate/backend.sock".
  std::string target;
  // Largest message sent or received. Must exceed the largest chunk
  // (1 MiB by contract) plus framing; the default leaves ample headroom.
  int max_message_bytes = 4 * 1024 * 1024 + 1024 * 1024;
  // HTTP/2 keepalive pings while calls are active; 0 disables them. Only
  // enable when the backends permit pings that often
  // (GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS defaults to 5
  // minutes on gRPC servers, which answer faster pings with GOAWAY).
  int keepalive_time_ms = 0;
  int keepalive_timeout_ms = 10000;
  // Initial HTTP/2 stream window (bytes) so a read-ahead stream can run
  // ahead of the client; 0 keeps gRPC's default (BDP probing still grows
  // it on fast links).
  int http2_stream_window_bytes = 0;
  // Client-side health checking (see above).
  bool health_check = true;
  // Channel credentials (mutual TLS, see sftpgate/grpc_tls.h); null:
  // plaintext, for unix sockets.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // With TLS: the name the backend's certificate must carry when it is
  // not the target's host (e.g. a target given as an IP address).
  std::string tls_server_name;
};

// The service config (JSON) applied to backend channels.
std::string BackendServiceConfigJson(const BackendChannelOptions& options);

// A channel to `options.target` configured as described above. Does not
// connect until first used; never blocks.
std::shared_ptr<grpc::Channel> MakeBackendChannel(
    const BackendChannelOptions& options);

// A Backend stub over MakeBackendChannel(options).
std::shared_ptr<const backend::BackendStub> MakeBackendStub(
    const BackendChannelOptions& options);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_BACKEND_BACKEND_CHANNEL_H_
