#include "tests/sftp/session_harness.h"

#include "gtest/gtest.h"
#include "server/backend/grpc_backend_client.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::testing {

using server::sftp::PacketReader;

// ---- TestExecutor ----

TestExecutor::TestExecutor() : thread_([this] { Run(); }) {}

TestExecutor::~TestExecutor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  queue_.clear();
}

void TestExecutor::Post(absl::AnyInvocable<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;  // destroyed unrun
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

bool TestExecutor::InLoopThread() const {
  return std::this_thread::get_id() == thread_.get_id();
}

void TestExecutor::RunSync(absl::AnyInvocable<void()> fn) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  Post([&] {
    fn();
    std::lock_guard<std::mutex> lock(done_mu);
    done = true;
    done_cv.notify_one();
  });
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return done; });
}

void TestExecutor::Run() {
  while (true) {
    absl::AnyInvocable<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

// ---- Reply ----

uint32_t Reply::status() const {
  EXPECT_EQ(type, server::sftp::kFxpStatus) << "not a STATUS reply";
  PacketReader in(body);
  uint32_t code = 0xffff;
  EXPECT_TRUE(in.ReadU32(&code));
  return code;
}

std::string Reply::message() const {
  PacketReader in(body);
  uint32_t code;
  absl::string_view msg;
  EXPECT_TRUE(in.ReadU32(&code) && in.ReadString(&msg));
  return std::string(msg);
}

std::string Reply::handle() const {
  EXPECT_EQ(type, server::sftp::kFxpHandle)
      << "not a HANDLE reply: " << (type == 101 ? message() : "");
  PacketReader in(body);
  absl::string_view h;
  EXPECT_TRUE(in.ReadString(&h));
  return std::string(h);
}

std::string Reply::data() const {
  EXPECT_EQ(type, server::sftp::kFxpData)
      << "not a DATA reply: " << (type == 101 ? message() : "");
  PacketReader in(body);
  absl::string_view d;
  EXPECT_TRUE(in.ReadString(&d));
  EXPECT_EQ(in.remaining(), 0u);
  return std::string(d);
}

v1::Attributes Reply::attrs() const {
  EXPECT_EQ(type, server::sftp::kFxpAttrs)
      << "not an ATTRS reply: " << (type == 101 ? message() : "");
  PacketReader in(body);
  v1::Attributes a;
  EXPECT_TRUE(server::sftp::DecodeAttributes(&in, &a));
  return a;
}

std::vector<Reply::Name> Reply::names() const {
  EXPECT_EQ(type, server::sftp::kFxpName)
      << "not a NAME reply: " << (type == 101 ? message() : "");
  PacketReader in(body);
  uint32_t count = 0;
  EXPECT_TRUE(in.ReadU32(&count));
  std::vector<Name> out;
  for (uint32_t i = 0; i < count; ++i) {
    absl::string_view name, long_name;
    Name n;
    EXPECT_TRUE(in.ReadString(&name) && in.ReadString(&long_name) &&
                server::sftp::DecodeAttributes(&in, &n.attrs));
    n.name = std::string(name);
    n.long_name = std::string(long_name);
    out.push_back(std::move(n));
  }
  EXPECT_EQ(in.remaining(), 0u);
  return out;
}

// ---- CapturingSink ----

void CapturingSink::SendFrom(std::string buffer, size_t start) {
  if (start > buffer.size() - start + server::sftp::kDataReplyOverhead) {
    wasteful_buffer = true;
  }
  Send(buffer.substr(start));
}

void CapturingSink::Send(std::string bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  EXPECT_FALSE(closed_) << "Send after Close";
  partial_ += bytes;
  while (partial_.size() >= 4) {
    PacketReader len_reader(absl::string_view(partial_).substr(0, 4));
    uint32_t len = 0;
    len_reader.ReadU32(&len);
    if (partial_.size() < 4 + size_t{len}) break;
    PacketReader in(absl::string_view(partial_).substr(4, len));
    Reply r;
    in.ReadU8(&r.type);
    uint32_t key = kVersion;
    if (r.type != server::sftp::kFxpVersion) {
      in.ReadU32(&r.id);
      key = r.id;
    }
    r.body = partial_.substr(4 + len - in.remaining(), in.remaining());
    if (!ids_may_repeat.load()) {
      EXPECT_EQ(replies_.count(key), 0u) << "two replies for id " << key;
    }
    replies_[key] = std::move(r);
    ++count_;
    partial_.erase(0, 4 + len);
  }
  cv_.notify_all();
}

void CapturingSink::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

std::optional<Reply> CapturingSink::Wait(uint32_t id,
                                         std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return replies_.count(id) > 0; })) {
    return std::nullopt;
  }
  return replies_[id];
}

bool CapturingSink::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return closed_; });
}

size_t CapturingSink::replies_received() {
  std::lock_guard<std::mutex> lock(mu_);
  return count_;
}

// ---- PacketBuilder ----

PacketBuilder& PacketBuilder::U32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    body_.push_back(static_cast<char>(v >> shift));
  }
  return *this;
}

PacketBuilder& PacketBuilder::U64(uint64_t v) {
  U32(static_cast<uint32_t>(v >> 32));
  return U32(static_cast<uint32_t>(v));
}

PacketBuilder& PacketBuilder::Str(const std::string& s) {
  U32(static_cast<uint32_t>(s.size()));
  body_ += s;
  return *this;
}

PacketBuilder& PacketBuilder::Attrs(const v1::Attributes& a) {
  server::sftp::PacketWriter w(0);
  server::sftp::EncodeAttributes(a, &w);
  body_ += std::move(w).Finish().substr(5);
  return *this;
}

PacketBuilder& PacketBuilder::Raw(const std::string& bytes) {
  body_ += bytes;
  return *this;
}

std::string PacketBuilder::Build() const {
  PacketBuilder framed(0);
  framed.body_.clear();
  framed.U32(static_cast<uint32_t>(body_.size()));
  return framed.body_ + body_;
}

// ---- SessionHarness ----

SessionHarness::SessionHarness(
    std::shared_ptr<const server::backend::BackendStub> stub,
    v1::Session session, server::SftpLimits limits,
    std::shared_ptr<server::backend::TransferBudget> total_budget)
    : SessionHarness(server::backend::GrpcBackendClientFactory(std::move(stub)),
                     std::move(session), limits, std::move(total_budget)) {}

SessionHarness::SessionHarness(
    server::backend::BackendClientFactory backend, v1::Session session,
    server::SftpLimits limits,
    std::shared_ptr<server::backend::TransferBudget> total_budget,
    server::UserLimits quota) {
  server::SftpSessionOptions options;
  options.quota = quota;
  options.session = std::move(session);
  options.backend = std::move(backend);
  options.executor = &executor_;
  options.sink = &sink_;
  options.limits = limits;
  options.total_transfer_budget = std::move(total_budget);
  options.resume_input = [this] {
    ++resumes_;
    Offer();
  };
  options.clock = [this] {
    return clock_start_ +
           std::chrono::steady_clock::duration(clock_offset_.load());
  };
  executor_.RunSync(
      [&] { session_ = server::SftpSession::Create(std::move(options)); });
}

SessionHarness::~SessionHarness() {
  executor_.RunSync([&] {
    session_->Shutdown();
    session_.reset();
  });
}

void SessionHarness::Shutdown() {
  executor_.RunSync([&] { session_->Shutdown(); });
}

void SessionHarness::OutputDrained() {
  executor_.RunSync([&] { session_->OnOutputDrained(); });
}

void SessionHarness::Offer() {
  if (pending_.empty()) return;
  const size_t taken = session_->OnChannelData(pending_);
  EXPECT_LE(taken, pending_.size());
  pending_.erase(0, taken);
}

void SessionHarness::Feed(const std::string& bytes) {
  executor_.RunSync([&] {
    pending_ += bytes;
    Offer();
  });
}

size_t SessionHarness::InFlight() {
  size_t n = 0;
  executor_.RunSync([&] { n = session_->InFlight(); });
  return n;
}

size_t SessionHarness::pending_input() {
  size_t n = 0;
  executor_.RunSync([&] { n = pending_.size(); });
  return n;
}

Reply SessionHarness::Call(PacketBuilder request, uint32_t id) {
  Feed(request.Build());
  std::optional<Reply> reply = Wait(id);
  EXPECT_TRUE(reply.has_value()) << "no reply to request " << id;
  return reply.value_or(Reply{});
}

Reply SessionHarness::Init() {
  Feed(PacketBuilder(server::sftp::kFxpInit).U32(3).Build());
  std::optional<Reply> reply = Wait(CapturingSink::kVersion);
  EXPECT_TRUE(reply.has_value()) << "no VERSION";
  return reply.value_or(Reply{});
}

Reply SessionHarness::Open(const std::string& path, uint32_t pflags,
                           const v1::Attributes& attrs) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(server::sftp::kFxpOpen)
                  .U32(id)
                  .Str(path)
                  .U32(pflags)
                  .Attrs(attrs),
              id);
}

Reply SessionHarness::Close(const std::string& handle) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(server::sftp::kFxpClose).U32(id).Str(handle), id);
}

Reply SessionHarness::Read(const std::string& handle, uint64_t offset,
                           uint32_t length) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(server::sftp::kFxpRead)
                  .U32(id)
                  .Str(handle)
                  .U64(offset)
                  .U32(length),
              id);
}

Reply SessionHarness::Write(const std::string& handle, uint64_t offset,
                            const std::string& data) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(server::sftp::kFxpWrite)
                  .U32(id)
                  .Str(handle)
                  .U64(offset)
                  .Str(data),
              id);
}

Reply SessionHarness::PathOp(uint8_t type, const std::string& path) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(type).U32(id).Str(path), id);
}

Reply SessionHarness::Extended(const std::string& name, PacketBuilder fields) {
  const uint32_t id = NextId();
  return Call(PacketBuilder(server::sftp::kFxpExtended)
                  .U32(id)
                  .Str(name)
                  .Raw(fields.fields()),
              id);
}

}  // namespace sftpgate::testing
