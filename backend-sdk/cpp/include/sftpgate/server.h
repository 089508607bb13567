// Hosting a Backend as a gRPC service.
//
//   MyBackend backend(...);
//   sftpgate::ServeOptions options;
//   options.listen_address = "127.0.0.1:7000";   // or "unix:/run/b.sock"
//   return sftpgate::ServeBackend(options, &backend);  // until SIGTERM
//
// The host serves sftpgate.v1.Backend and grpc.health.v1.Health, streams
// reads, writes and listings in chunks (never a whole file in memory), turns
// a cancelled stream into FileWriter::Abort(), and answers Describe from the
// optional methods the concrete backend class overrides.

#ifndef SFTPGATE_SERVER_H_
#define SFTPGATE_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sftpgate/backend.h"
#include "sftpgate/grpc_tls.h"

namespace sftpgate {

struct ServeOptions {
  // "host:port" (port 0 picks a free one) or "unix:/path".
  std::string listen_address = "127.0.0.1:7000";
  // Payload bytes per ReadChunk the host sends when the request does not
  // ask for a size; also the largest it will send.
  uint32_t preferred_chunk_size = 256 * 1024;
  uint32_t max_chunk_size = 1024 * 1024;
  // Entries per ListDirResponse message.
  uint32_t list_batch_size = 512;
  // Worker threads for gRPC's sync server (0: gRPC's default).
  int threads = 0;
  // On SIGINT/SIGTERM, ServeBackend lets calls in flight finish for up to
  // this long before cancelling them (see BackendServer::Drain).
  int shutdown_grace_ms = 2000;
  // gRPC's BDP probing grows a stream's HTTP/2 flow-control window with
  // the link's bandwidth. A backend whose FileWriter blocks on slow storage
  // (an S3 part upload) should turn it off: otherwise tens of MiB of an
  // upload pile up in the transport while the writer waits (measured with
  // the S3 backend: peak RSS 119 MiB on, 36 MiB off, for a 256 MiB file).
  bool http2_bdp_probe = true;
  // Mutual TLS (PEM files): the host's certificate and key, and the CA
  // that callers' certificates must chain to; a caller without such a
  // certificate gets no call through. All three or none; with none the
  // host serves plaintext, which is only safe on a unix socket.
  TlsFiles tls;
  // Permission bits of a unix socket the host creates: 0600 (the host's
  // user only) by default; 0660 lets its group (the front end's) connect.
  int unix_socket_mode = 0600;
};

// Which optional operations a backend serves; reported by Describe.
struct Capabilities {
  bool symlinks = false;
  bool hard_links = false;
  bool stat_fs = false;
  bool usage = false;
  bool real_path = false;
  bool set_stat_no_follow = false;
};

// Detects at compile time which optional methods `B` overrides: taking the
// address of an inherited member gives a pointer-to-member of the class
// that declared it, so its type names Backend exactly when B (or a class
// between) did not override it.
template <typename B>
constexpr Capabilities CapabilitiesOf() {
  static_assert(std::is_base_of_v<Backend, B>);
  Capabilities c;
  c.symlinks =
      !std::is_same_v<decltype(&B::Symlink), decltype(&Backend::Symlink)>;
  c.hard_links = !std::is_same_v<decltype(&B::Link), decltype(&Backend::Link)>;
  c.stat_fs = !std::is_same_v<decltype(&B::StatFs), decltype(&Backend::StatFs)>;
  c.usage = !std::is_same_v<decltype(&B::Usage), decltype(&Backend::Usage)>;
  c.real_path =
      !std::is_same_v<decltype(&B::RealPath), decltype(&Backend::RealPath)>;
  c.set_stat_no_follow = !std::is_same_v<decltype(&B::SetStatNoFollow),
                                         decltype(&Backend::SetStatNoFollow)>;
  return c;
}

// A running backend service. Thread-safe.
class BackendServer {
 public:
  virtual ~BackendServer() = default;
  // The TCP port bound (useful with port 0); 0 for unix sockets.
  virtual int port() const = 0;
  // Blocks until Shutdown() is called (from another thread or a signal).
  virtual void Wait() = 0;
  // Stops accepting calls, cancels those in flight (uploads abort) and
  // returns once the service has stopped. Idempotent.
  void Shutdown() { Drain(0); }
  // Reports NOT_SERVING on the health service, goes on taking calls for
  // up to 300 ms (so health-checking clients move new calls elsewhere
  // first), stops accepting calls, lets the calls in flight finish until
  // `grace_ms` after the start, then cancels the rest
  // (uploads abort) and returns once the service has stopped. This is what
  // lets replicas restart without failing calls: the front end's health
  // checks and retries move new calls to other replicas meanwhile.
  // Idempotent.
  virtual void Drain(int grace_ms) = 0;
};

// Starts serving `backend` (not owned; must outlive the server) and returns
// at once. Fails if the address cannot be bound.
absl::StatusOr<std::unique_ptr<BackendServer>> StartBackendServer(
    const ServeOptions& options, Backend* backend,
    const Capabilities& capabilities);

template <typename B>
absl::StatusOr<std::unique_ptr<BackendServer>> StartBackendServer(
    const ServeOptions& options, B* backend) {
  return StartBackendServer(options, backend, CapabilitiesOf<B>());
}

// Serves `backend` until SIGINT or SIGTERM, then drains for
// options.shutdown_grace_ms and shuts down cleanly.
// Prints "listening on ADDR" to stderr once bound. Returns the bind error,
// or OK after a clean shutdown.
absl::Status ServeBackend(const ServeOptions& options, Backend* backend,
                          const Capabilities& capabilities);

template <typename B>
absl::Status ServeBackend(const ServeOptions& options, B* backend) {
  return ServeBackend(options, backend, CapabilitiesOf<B>());
}

}  // namespace sftpgate

#endif  // SFTPGATE_SERVER_H_
