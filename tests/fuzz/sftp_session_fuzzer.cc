// Fuzz target: the SFTP session itself. The input is a client's byte
// stream, fed to a real SftpSession (server/sftp: framer, the dispatch
// table, every handler, handles, read-ahead, uploads, copy-data) whose
// backend is tests/sftp's FakeBackend, served in-process over gRPC. No
// copy of the handlers' field lists: whatever the session does with a
// packet is what is fuzzed.
//
// Input: byte 0 picks the session's shape (bit 0: read-only; bit 1: tight
// limits, so the in-flight, handle and buffer caps are reached from short
// inputs); the rest is the client's stream (INIT first, as clients send).
//
// Checked, beyond ASan/UBSan/LSan: the session takes all its input or
// closes, and settles (nothing left in flight) within a deadline, i.e.
// every request it accepted is answered and no handler hangs.
//
// The backend's tree persists across inputs (a fresh gRPC server per
// input would cost more than the session): "/file" and "/dir" are put
// back before each input.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fuzz_check.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/server_interceptor.h"
#include "server/backend/backend_stub.h"
#include "server/common/log.h"
#include "server/sftp/sftp_session.h"
#include "sftpgate/v1/backend.grpc.pb.h"
#include "tests/sftp/fake_backend.h"
#include "tests/sftp/session_harness.h"

namespace sftpgate::testing {
namespace {

// One FakeBackend and its in-process server for the whole run.
// The backend's calls from their start until gRPC is done with them (an
// interceptor lives exactly as long as its call), by method.
class LiveCalls {
 public:
  void Add(const std::string& method) {
    std::lock_guard<std::mutex> lock(mu_);
    methods_.insert(method);
  }
  void Remove(const std::string& method) {
    std::lock_guard<std::mutex> lock(mu_);
    methods_.erase(methods_.find(method));
  }
  bool empty() {
    std::lock_guard<std::mutex> lock(mu_);
    return methods_.empty();
  }
  std::string Describe() {
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    for (const std::string& m : methods_) out += " " + m;
    return out;
  }

 private:
  std::mutex mu_;
  std::multiset<std::string> methods_;
};

class CallCounter : public grpc::experimental::Interceptor {
 public:
  CallCounter(LiveCalls* live, std::string method)
      : live_(live), method_(std::move(method)) {
    live_->Add(method_);
  }
  ~CallCounter() override { live_->Remove(method_); }
  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  LiveCalls* const live_;
  const std::string method_;
};

class CallCounterFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallCounterFactory(LiveCalls* live) : live_(live) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallCounter(live_, info->method());
  }

 private:
  LiveCalls* const live_;
};

struct World {
  FakeBackend backend;
  LiveCalls live_calls;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<const server::backend::BackendStub> stub;

  World() {
    // Every op is logged at info: millions of lines, not findings.
    server::SetLogLevel(server::LogLevel::kWarning);
    grpc::ServerBuilder builder;
    builder.RegisterService(&backend);
    std::vector<
        std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
        counters;
    counters.push_back(std::make_unique<CallCounterFactory>(&live_calls));
    builder.experimental().SetInterceptorCreators(std::move(counters));
    server = builder.BuildAndStart();
    stub = std::make_shared<const server::backend::BackendStub>(
        server->InProcessChannel({}));
  }
};

World& GetWorld() {
  static World* const world = new World();  // never destroyed
  return *world;
}

server::SftpLimits LimitsFor(uint8_t control) {
  server::SftpLimits limits;
  limits.call_timeout_ms = 2000;
  if (control & 2) {
    limits.max_in_flight = 2;
    limits.max_handles = 2;
    limits.max_queued_output = 4096;
    limits.max_transfer_buffer = 8192;
    limits.max_packet_length = 4096;
  }
  return limits;
}

}  // namespace
}  // namespace sftpgate::testing

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sftpgate::testing;  // NOLINT: fuzz entry point
  if (size == 0) return 0;
  World& world = GetWorld();
  // Each input starts from the same store: what an earlier input left
  // (files grown to the fake's 256 MiB limit by SETSTAT, say) would make
  // inputs depend on each other and the store grow without bound.
  world.backend.Clear();
  world.backend.PutDir("/dir");
  world.backend.PutFile("/file", std::string(70000, 'f'));

  sftpgate::v1::Session session;
  session.set_session_id("fuzz");
  session.set_user("fuzz");
  session.set_root("/");
  session.set_read_only(data[0] & 1);
  {
    SessionHarness harness(world.stub, session, LimitsFor(data[0]));
    harness.sink().ids_may_repeat = true;
    harness.Feed(
        std::string(reinterpret_cast<const char*>(data + 1), size - 1));

    // Settled: the session closed, or it took all input and has nothing in
    // flight. A closed session (a fatal protocol error) is torn down by the
    // SSH layer and answers nothing more, so requests it had in flight stay
    // counted until it is destroyed; LSan checks that nothing leaks then.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      const bool closed =
          harness.sink().WaitClosed(std::chrono::milliseconds(0));
      if (closed || (harness.pending_input() == 0 && harness.InFlight() == 0)) {
        break;
      }
      FUZZ_CHECK(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  // The session is gone and its calls cancelled; wait until the backend
  // finished them too, so that libFuzzer's leak check between inputs sees
  // no call still building its answer on a server thread.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!world.live_calls.empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "backend calls still live after the session:%s\n",
                   world.live_calls.Describe().c_str());
      FUZZ_CHECK(false);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return 0;
}
