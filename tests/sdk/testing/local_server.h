// Serving a Backend in-process for tests, and dialing it.
//
//   MemoryBackend backend;
//   auto server = StartLocalServer(&backend);        // 127.0.0.1:<free>
//   ASSERT_TRUE(server.ok());
//   TestClient client(MakeChannel(LocalTarget(**server)), session);
//
// Thread safety: the functions are thread-safe; see BackendServer and
// grpc::Channel for the objects returned.

#ifndef SFTPGATE_TESTS_SDK_TESTING_LOCAL_SERVER_H_
#define SFTPGATE_TESTS_SDK_TESTING_LOCAL_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "sftpgate/server.h"

namespace sftpgate::testing {

// Starts serving `backend` on 127.0.0.1 with a port the OS picks; the
// other `options` are kept.
template <typename B>
absl::StatusOr<std::unique_ptr<BackendServer>> StartLocalServer(
    B* backend, ServeOptions options = {}) {
  options.listen_address = "127.0.0.1:0";
  return StartBackendServer(options, backend);
}

// "127.0.0.1:<port>" for a server started by StartLocalServer.
std::string LocalTarget(const BackendServer& server);

// An insecure channel to `target` whose message size limits fit chunks of
// up to `max_chunk_size` bytes.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           uint32_t max_chunk_size = 16 * 1024 *
                                                                     1024);

// The absl::Status with the code and message of `status`.
absl::Status FromGrpc(const grpc::Status& status);

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_TESTING_LOCAL_SERVER_H_
