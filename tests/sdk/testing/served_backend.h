// ServedBackend: a Backend served in-process on 127.0.0.1:<free port>,
// with a channel and a TestClient ready to use. The usual test fixture:
//
//   MemoryBackend backend;
//   auto served = ServedBackend::Start(&backend);
//   ASSERT_TRUE(served.ok()) << served.status();
//   TestClient& client = (*served)->client();
//
// Thread safety: as TestClient and BackendServer; the object itself is not
// modified after Start.

#ifndef SFTPGATE_TESTS_SDK_TESTING_SERVED_BACKEND_H_
#define SFTPGATE_TESTS_SDK_TESTING_SERVED_BACKEND_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "sftpgate/server.h"
#include "tests/sdk/testing/local_server.h"
#include "tests/sdk/testing/session_builder.h"
#include "tests/sdk/testing/test_client.h"

namespace sftpgate::testing {

class ServedBackend {
 public:
  // Serves `backend` (not owned; must outlive the result) with `options`
  // (the listen address is replaced) and connects a client acting for
  // `session`.
  template <typename B>
  static absl::StatusOr<std::unique_ptr<ServedBackend>> Start(
      B* backend, ServeOptions options = {},
      Session session = SessionBuilder().Build()) {
    absl::StatusOr<std::unique_ptr<BackendServer>> server =
        StartLocalServer(backend, options);
    if (!server.ok()) return server.status();
    return std::unique_ptr<ServedBackend>(new ServedBackend(
        *std::move(server), options.max_chunk_size, std::move(session)));
  }

  BackendServer& server() { return *server_; }
  std::string target() const { return LocalTarget(*server_); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  TestClient& client() { return client_; }
  // A client on the same channel acting for `session`.
  TestClient ClientFor(Session session) const {
    return client_.WithSession(std::move(session));
  }

 private:
  ServedBackend(std::unique_ptr<BackendServer> server, uint32_t max_chunk,
                Session session)
      : server_(std::move(server)),
        channel_(MakeChannel(LocalTarget(*server_), max_chunk)),
        client_(channel_, std::move(session)) {}

  std::unique_ptr<BackendServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  TestClient client_;
};

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SDK_TESTING_SERVED_BACKEND_H_
