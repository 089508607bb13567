// Drives an SftpSession the way the SSH layer does: a loop thread (a test
// Executor), a PacketSink that captures replies, and raw SFTP packets in.
//
// Thread safety: the harness methods are called from the test thread; they
// run session calls on the loop thread and wait.

#ifndef SFTPGATE_TESTS_SFTP_SESSION_HARNESS_H_
#define SFTPGATE_TESTS_SFTP_SESSION_HARNESS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_stub.h"
#include "server/common/executor.h"
#include "server/sftp/sftp_session.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::testing {

// An Executor backed by one thread.
class TestExecutor : public server::Executor {
 public:
  TestExecutor();
  ~TestExecutor() override;  // stops; queued closures are destroyed unrun
  void Post(absl::AnyInvocable<void()> fn) override;
  bool InLoopThread() const override;
  // Runs `fn` on the loop and waits for it.
  void RunSync(absl::AnyInvocable<void()> fn);

 private:
  void Run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void()>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

// One decoded reply.
struct Reply {
  uint8_t type = 0;
  uint32_t id = 0;   // not for VERSION
  std::string body;  // the fields after the id (after the type for
                     // VERSION)
  // Decoders for the common shapes; they fail the test on bad input.
  uint32_t status() const;  // SSH_FXP_STATUS code
  std::string message() const;
  std::string handle() const;
  std::string data() const;
  v1::Attributes attrs() const;
  struct Name {
    std::string name, long_name;
    v1::Attributes attrs;
  };
  std::vector<Name> names() const;
};

// Captures what the session sends.
class CapturingSink : public server::PacketSink {
 public:
  void Send(std::string bytes) override;
  // Sends the tail; notes a buffer mostly made of bytes before it.
  void SendFrom(std::string buffer, size_t start) override;
  size_t QueuedBytes() const override { return queued.load(); }
  void Close() override;

  // What QueuedBytes() reports (tests simulate a full channel with it).
  std::atomic<size_t> queued{0};
  // Whether a request id may be answered more than once: a client that
  // reuses an id it has in flight (the fuzzer) gets one reply per request.
  // Tests send distinct ids, so by default a second reply is a failure.
  std::atomic<bool> ids_may_repeat{false};
  // Set when a packet came in a buffer holding more unsent bytes before it
  // than the packet's size plus a DATA header: memory the output queue
  // would hold for nothing.
  std::atomic<bool> wasteful_buffer{false};

  // Waits for the reply to request `id` (or VERSION for id == kVersion).
  std::optional<Reply> Wait(uint32_t id, std::chrono::milliseconds timeout);
  bool WaitClosed(std::chrono::milliseconds timeout);
  size_t replies_received();
  static constexpr uint32_t kVersion = 0xffffffff;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::string partial_;
  std::map<uint32_t, Reply> replies_;
  size_t count_ = 0;
  bool closed_ = false;
};

// Packet builders (whole framed packets).
class PacketBuilder {
 public:
  explicit PacketBuilder(uint8_t type) { body_.push_back(char(type)); }
  PacketBuilder& U32(uint32_t v);
  PacketBuilder& U64(uint64_t v);
  PacketBuilder& Str(const std::string& s);
  PacketBuilder& Attrs(const v1::Attributes& a);
  PacketBuilder& Raw(const std::string& bytes);
  // The fields after the type byte (to splice into another packet).
  std::string fields() const { return body_.substr(1); }
  std::string Build() const;

 private:
  std::string body_;
};

class SessionHarness {
 public:
  // A session calling the backend behind `stub` over gRPC.
  // `total_budget` (may be null): the process-wide transfer budget.
  SessionHarness(
      std::shared_ptr<const server::backend::BackendStub> stub,
      v1::Session session, server::SftpLimits limits,
      std::shared_ptr<server::backend::TransferBudget> total_budget = nullptr);
  // A session calling whatever client `backend` makes (e.g. an in-process
  // fake), for a user with `quota`.
  SessionHarness(
      server::backend::BackendClientFactory backend, v1::Session session,
      server::SftpLimits limits,
      std::shared_ptr<server::backend::TransferBudget> total_budget = nullptr,
      server::UserLimits quota = {});
  ~SessionHarness();

  // Feeds bytes as channel data, keeping what the session did not take
  // until it calls resume_input.
  void Feed(const std::string& bytes);
  std::optional<Reply> Wait(uint32_t id, std::chrono::milliseconds timeout =
                                             std::chrono::seconds(20)) {
    return sink_.Wait(id, timeout);
  }
  // Sends a request (type + id + `fields` built by the caller) and waits.
  Reply Call(PacketBuilder request, uint32_t id);
  uint32_t NextId() { return next_id_++; }

  // Typed helpers. Each sends one request and returns its reply.
  Reply Init();  // the VERSION reply
  Reply Open(const std::string& path, uint32_t pflags,
             const v1::Attributes& attrs = {});
  Reply Close(const std::string& handle);
  Reply Read(const std::string& handle, uint64_t offset, uint32_t length);
  Reply Write(const std::string& handle, uint64_t offset,
              const std::string& data);
  Reply PathOp(uint8_t type, const std::string& path);
  Reply Extended(const std::string& name, PacketBuilder fields);

  size_t InFlight();
  size_t pending_input();
  int resumes() const { return resumes_.load(); }
  void Shutdown();
  // What the SSH layer calls after writing queued output.
  void OutputDrained();
  CapturingSink& sink() { return sink_; }
  TestExecutor& executor() { return executor_; }
  // The session's clock (its known-directories window) stands still
  // unless a test moves it: time-window tests do not depend on how fast
  // the machine runs. Thread-safe.
  void AdvanceClock(std::chrono::steady_clock::duration by) {
    clock_offset_ += by.count();
  }

 private:
  void Offer();  // on the loop

  TestExecutor executor_;
  CapturingSink sink_;
  std::shared_ptr<server::SftpSession> session_;
  std::string pending_;  // loop thread only
  std::atomic<int> resumes_{0};
  uint32_t next_id_ = 1;
  const std::chrono::steady_clock::time_point clock_start_ =
      std::chrono::steady_clock::now();
  std::atomic<std::chrono::steady_clock::rep> clock_offset_{0};
};

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_SFTP_SESSION_HARNESS_H_
