// The backend channel's service config, exercised over real gRPC servers:
// round robin across replicas and client-side health checking.

#include "server/backend/backend_channel.h"

#include <chrono>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/validate_service_config.h"
#include "gtest/gtest.h"
#include "tests/backend/grpc_test_runtime.h"
#include "tests/sftp/fake_backend.h"

namespace sftpgate::testing {
namespace {

grpc::Status StatRoot(v1::Backend::StubInterface* stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::StatRequest request;
  request.set_path("/");
  v1::StatResponse response;
  return stub->Stat(&context, request, &response);
}

TEST(BackendChannelTest, ServiceConfigIsValid) {
  server::BackendChannelOptions options;
  options.target = "127.0.0.1:1";
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(
                server::BackendServiceConfigJson(options)),
            "");
  options.health_check = false;
  EXPECT_EQ(grpc::experimental::ValidateServiceConfigJSON(
                server::BackendServiceConfigJson(options)),
            "");
}

TEST(BackendChannelTest, RoundRobinSpreadsCallsOverReplicas) {
  FakeBackend a, b;
  FakeServer server_a(&a), server_b(&b);
  server::BackendChannelOptions options;
  options.target = absl::StrCat("ipv4:127.0.0.1:", server_a.port(),
                                ",127.0.0.1:", server_b.port());
  auto stub = server::MakeBackendStub(options);
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(StatRoot(stub->stub()).ok());
  EXPECT_GT(a.unary_calls.load(), 5);
  EXPECT_GT(b.unary_calls.load(), 5);
  EXPECT_EQ(a.unary_calls.load() + b.unary_calls.load(), 40);
}

TEST(BackendChannelTest, HealthCheckingSkipsANotServingReplica) {
  FakeBackend a, b;
  FakeServer server_a(&a), server_b(&b);
  server::BackendChannelOptions options;
  options.target = absl::StrCat("ipv4:127.0.0.1:", server_a.port(),
                                ",127.0.0.1:", server_b.port());
  auto stub = server::MakeBackendStub(options);
  ASSERT_TRUE(StatRoot(stub->stub()).ok());
  server_a.SetServing(false);  // e.g. draining before a restart
  // The health watch reports the change asynchronously.
  for (int i = 0; i < 200; ++i) {
    const int before = a.unary_calls.load();
    ASSERT_TRUE(StatRoot(stub->stub()).ok());
    ASSERT_TRUE(StatRoot(stub->stub()).ok());
    if (a.unary_calls.load() == before) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int a_calls = a.unary_calls.load();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(StatRoot(stub->stub()).ok());
  EXPECT_EQ(a.unary_calls.load(), a_calls);
  server_a.SetServing(true);
  for (int i = 0; i < 200 && a.unary_calls.load() == a_calls; ++i) {
    ASSERT_TRUE(StatRoot(stub->stub()).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GT(a.unary_calls.load(), a_calls);
}

TEST(BackendChannelTest, ReplicaGoingAwayCostsNoFailedCalls) {
  FakeBackend a, b;
  auto server_a = std::make_unique<FakeServer>(&a);
  FakeServer server_b(&b);
  server::BackendChannelOptions options;
  options.target = absl::StrCat("ipv4:127.0.0.1:", server_a->port(),
                                ",127.0.0.1:", server_b.port());
  auto stub = server::MakeBackendStub(options);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(StatRoot(stub->stub()).ok());
  server_a->Stop();
  // Idempotent calls are retried on UNAVAILABLE (and round robin drops the
  // dead replica), so none of these fails.
  for (int i = 0; i < 40; ++i) {
    grpc::Status status = StatRoot(stub->stub());
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
}

}  // namespace
}  // namespace sftpgate::testing
