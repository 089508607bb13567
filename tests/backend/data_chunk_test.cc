// server/backend/data_chunk.h: the front end's own ReadChunk decoder must
// read what protobuf's parser reads, from a message split across gRPC
// slices anywhere, and refuse what it cannot read; and a Read stream whose
// backend sends bytes that are no ReadChunk must end with INTERNAL instead
// of being taken for the end of the file. That last part runs a real gRPC
// server (a generic service scripting raw messages) against the front
// end's Read call.

#include "server/backend/data_chunk.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"
#include "server/backend/backend_channel.h"
#include "server/backend/grpc_backend_client.h"
#include "server/common/executor.h"
#include "sftpgate/v1/backend.pb.h"
#include "tests/backend/grpc_test_runtime.h"

namespace sftpgate::server::backend {
namespace {

std::string Payload(size_t n) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 131 + 7);
  return data;
}

// `bytes` as a ByteBuffer of slices cut at `cuts` (ascending offsets).
grpc::ByteBuffer Sliced(const std::string& bytes,
                        const std::vector<size_t>& cuts) {
  std::vector<grpc::Slice> slices;
  size_t from = 0;
  for (size_t cut : cuts) {
    slices.emplace_back(bytes.data() + from, cut - from);
    from = cut;
  }
  slices.emplace_back(bytes.data() + from, bytes.size() - from);
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string Encode(uint64_t offset, const std::string& data) {
  v1::ReadChunk chunk;
  chunk.set_offset(offset);
  chunk.set_data(data);
  return chunk.SerializeAsString();
}

// Decodes `bytes` both ways; when ours accepts, protobuf must read the
// same message; when protobuf refuses, so must ours.
void ExpectDecodesAsProtobuf(const std::string& bytes,
                             const std::vector<size_t>& cuts) {
  DataChunk ours;
  const bool ok = DecodeReadChunk(Sliced(bytes, cuts), &ours);
  v1::ReadChunk theirs;
  const bool their_ok = theirs.ParseFromString(bytes);
  if (ok) {
    ASSERT_TRUE(their_ok);
    EXPECT_EQ(ours.offset(), theirs.offset());
    EXPECT_EQ(ours.data(), theirs.data());
    EXPECT_EQ(ours.headroom(), DataChunk::kHeadroom);
  }
  if (!their_ok) {
    EXPECT_FALSE(ok);
  }
}

TEST(DataChunkTest, DecodesWhatProtobufEncodes) {
  const uint64_t offsets[] = {
      0, 1, 127, 128, uint64_t{1} << 32, std::numeric_limits<uint64_t>::max()};
  const size_t sizes[] = {0, 1, 127, 128, 16384, 262144, 1 << 20};
  for (uint64_t offset : offsets) {
    for (size_t size : sizes) {
      SCOPED_TRACE(absl::StrCat("offset ", offset, " size ", size));
      const std::string data = Payload(size);
      const std::string bytes = Encode(offset, data);
      // Whole, and cut inside the tag, the offset varint, the length
      // varint and the data (gRPC hands a message over in slices of any
      // size).
      std::vector<std::vector<size_t>> cut_sets = {{}};
      for (size_t at : {size_t{1}, size_t{2}, size_t{5}, bytes.size() / 2}) {
        if (at > 0 && at < bytes.size()) cut_sets.push_back({at});
      }
      std::vector<size_t> every_byte;
      for (size_t at = 1; at < std::min<size_t>(bytes.size(), 40); ++at) {
        every_byte.push_back(at);
      }
      cut_sets.push_back(every_byte);
      for (const auto& cuts : cut_sets) {
        DataChunk chunk;
        ASSERT_TRUE(DecodeReadChunk(Sliced(bytes, cuts), &chunk));
        EXPECT_EQ(chunk.offset(), offset);
        EXPECT_EQ(chunk.data(), data);
        EXPECT_EQ(chunk.headroom(), DataChunk::kHeadroom);
      }
    }
  }
}

TEST(DataChunkTest, ReadsFieldsAsProtobufDoes) {
  // Fields in any order, repeated (the last wins), unknown ones of every
  // wire type skipped, a known field number with another wire type
  // treated as unknown.
  const std::string cases[] = {
      std::string("\x12\x03"
                  "abc\x08\x05",
                  7),                               // data before offset
      std::string("\x08\x01\x08\x02\x12\x01x", 7),  // offset twice
      std::string("\x12\x02"
                  "ab\x12\x01"
                  "c",
                  7),                       // data twice
      std::string("\x18\x07\x12\x01z", 5),  // unknown varint
      std::string("\x21"
                  "12345678\x12\x01z",
                  12),  // unknown fixed64
      std::string("\x2d"
                  "1234\x12\x01z",
                  8),                         // unknown fixed32
      std::string("\x32\x02hi\x12\x01z", 7),  // unknown bytes
      std::string("\x0a\x02hi\x12\x01z", 7),  // offset as bytes
      std::string("\x15"
                  "abcd\x08\x03",
                  7),  // data as fixed32
      std::string(),   // empty message
  };
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    DataChunk ours;
    ASSERT_TRUE(DecodeReadChunk(Sliced(bytes, {}), &ours));
    ExpectDecodesAsProtobuf(bytes, {});
  }
}

TEST(DataChunkTest, RefusesMalformedMessages) {
  const std::string cases[] = {
      std::string("\x12\x05"
                  "abc",
                  5),          // data longer than the message
      std::string("\x12", 1),  // length missing
      std::string("\x08", 1),  // varint missing
      std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                  12),             // varint over ten bytes
      std::string("\x00\x01", 2),  // field number 0
      std::string("\x21"
                  "123",
                  4),                              // fixed64 cut short
      std::string("\x12\xff\xff\xff\xff\x0f", 6),  // 4 GiB of data claimed
  };
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(::testing::PrintToString(bytes));
    DataChunk chunk;
    EXPECT_FALSE(DecodeReadChunk(Sliced(bytes, {}), &chunk));
    EXPECT_FALSE(v1::ReadChunk().ParseFromString(bytes));
  }
  // Groups (deprecated; proto3, which the contract is, cannot declare one)
  // are refused, though protobuf skips a well-formed one it does not know.
  DataChunk chunk;
  EXPECT_FALSE(DecodeReadChunk(Sliced(std::string("\x0b\x0c", 2), {}), &chunk));
}

TEST(DataChunkTest, AgreesWithProtobufOnMutatedMessages) {
  std::mt19937 random(20261205);
  const std::string base = Encode(300, Payload(40)) + Encode(7, Payload(3));
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = base;
    const int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.resize(at);
          break;
        default:
          bytes.insert(at, 1, static_cast<char>(random()));
      }
      if (bytes.empty()) bytes = base;
    }
    SCOPED_TRACE(::testing::PrintToString(bytes));
    ExpectDecodesAsProtobuf(bytes, {bytes.size() / 3});
  }
}

TEST(DataChunkTest, RemovePrefixMovesTheOffsetAndKeepsTheBuffer) {
  DataChunk chunk(1000, "abcdef");
  chunk.RemovePrefix(2);
  EXPECT_EQ(chunk.offset(), 1002u);
  EXPECT_EQ(chunk.data(), "cdef");
  EXPECT_EQ(chunk.headroom(), DataChunk::kHeadroom + 2);
  const size_t start = chunk.headroom();
  std::string buffer = std::move(chunk).TakeBuffer();
  EXPECT_EQ(buffer.substr(start), "cdef");
  EXPECT_TRUE(chunk.empty());  // NOLINT(bugprone-use-after-move): specified

  const absl::string_view pieces[] = {"ab", "", "cde"};
  DataChunk joined = DataChunk::Join(5, pieces);
  EXPECT_EQ(joined.offset(), 5u);
  EXPECT_EQ(joined.data(), "abcde");
  EXPECT_EQ(joined.headroom(), DataChunk::kHeadroom);
}

// ---- the Read call over a real gRPC server ----

// Runs posted closures on the test's thread, when it asks.
class QueueExecutor : public Executor {
 public:
  void Post(absl::AnyInvocable<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
    cv_.notify_all();
  }
  bool InLoopThread() const override {
    return std::this_thread::get_id() == owner_;
  }
  // Runs closures until `done()` or the timeout; false on timeout.
  template <typename Pred>
  bool RunUntil(Pred done) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
      absl::AnyInvocable<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) {
          return false;
        }
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
    return true;
  }

 private:
  const std::thread::id owner_ = std::this_thread::get_id();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void()>> queue_;
};

// Serves one streaming method (`method`, e.g. "/sftpgate.v1.Backend/Read")
// by sending `messages` as they are (raw bytes), then OK; every other
// method UNIMPLEMENTED.
class ScriptedStreamService : public grpc::CallbackGenericService {
 public:
  ScriptedStreamService(std::string method, std::vector<std::string> messages)
      : method_(std::move(method)), messages_(std::move(messages)) {}

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new Reactor(context->method() == method_, messages_);
  }

 private:
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(bool served, const std::vector<std::string>& messages)
        : messages_(messages) {
      if (!served) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""));
        return;
      }
      StartRead(&request_);
    }
    void OnReadDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, ""));
      WriteNext();
    }
    void OnWriteDone(bool ok) override {
      if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, ""));
      WriteNext();
    }
    void OnDone() override { delete this; }

   private:
    void WriteNext() {
      if (next_ == messages_.size()) return Finish(grpc::Status::OK);
      const std::string& bytes = messages_[next_++];
      grpc::Slice slice(bytes.data(), bytes.size());
      message_ = grpc::ByteBuffer(&slice, 1);
      StartWrite(&message_);
    }

    const std::vector<std::string> messages_;
    size_t next_ = 0;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer message_;
  };

  const std::string method_;
  const std::vector<std::string> messages_;
};

template <typename Resp>
struct StreamResult {
  std::vector<Resp> messages;
  std::optional<grpc::Status> status;
};

// Runs the stream `start(client, handler)` opens against `service` through
// a real channel and the front end's BackendClient, to its end.
template <typename Resp, typename Start>
StreamResult<Resp> RunStream(ScriptedStreamService* service, Start start) {
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterCallbackGenericService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  EXPECT_NE(port, 0);

  QueueExecutor executor;
  auto poster = std::make_shared<LoopPoster>(&executor);
  BackendChannelOptions channel;
  channel.target = absl::StrCat("127.0.0.1:", port);
  channel.health_check = false;
  BackendClientOptions options;
  options.session.set_user("u");
  options.poster = poster;
  options.budget = std::make_shared<TransferBudget>(size_t{64} << 20);
  auto client = NewGrpcBackendClient(MakeBackendStub(channel), options);

  StreamResult<Resp> result;
  std::shared_ptr<IncomingStream<Resp>> stream;
  stream =
      start(*client,
            typename IncomingStream<Resp>::Handler{
                [&](Resp message) {
                  result.messages.push_back(std::move(message));
                  stream->RequestNext();
                },
                [&](const grpc::Status& status) { result.status = status; }});
  EXPECT_TRUE(executor.RunUntil([&] { return result.status.has_value(); }));
  stream.reset();
  client->Shutdown();
  poster->Detach();
  server->Shutdown();
  return result;
}

StreamResult<DataChunk> ReadThrough(std::vector<std::string> messages) {
  ScriptedStreamService service("/sftpgate.v1.Backend/Read",
                                std::move(messages));
  return RunStream<DataChunk>(
      &service, [](BackendClient& client, auto handler) {
        v1::ReadRequest request;
        request.set_path("/f");
        return client.Read(std::move(request), std::move(handler));
      });
}

StreamResult<v1::ListDirResponse> ListThrough(
    std::vector<std::string> messages) {
  ScriptedStreamService service("/sftpgate.v1.Backend/ListDir",
                                std::move(messages));
  return RunStream<v1::ListDirResponse>(
      &service, [](BackendClient& client, auto handler) {
        v1::ListDirRequest request;
        request.set_path("/d");
        return client.ListDir(std::move(request), std::move(handler));
      });
}

TEST(DataChunkReadCallTest, ChunksArriveDecoded) {
  auto r = ReadThrough({Encode(0, Payload(100000)), Encode(100000, "tail")});
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(r.status->ok()) << r.status->error_message();
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].offset(), 0u);
  EXPECT_EQ(r.messages[0].data(), Payload(100000));
  EXPECT_EQ(r.messages[1].offset(), 100000u);
  EXPECT_EQ(r.messages[1].data(), "tail");
}

TEST(DataChunkReadCallTest, AMalformedChunkEndsTheStreamWithInternal) {
  // The backend then finishes OK: without the check the front end would
  // take the stream's end for the end of the file and serve a short file.
  auto r = ReadThrough({Encode(0, "good"),
                        std::string("\x12\x09"
                                    "cut",
                                    5),
                        Encode(4, "x")});
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->error_code(), grpc::StatusCode::INTERNAL);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].data(), "good");
}

std::string Batch(const std::vector<std::string>& names) {
  v1::ListDirResponse batch;
  for (const std::string& name : names) batch.add_entries()->set_name(name);
  std::string bytes;
  // Encoded by hand (names under 128 bytes): protobuf checks UTF-8 as it
  // serializes, a backend in another language may not.
  for (const v1::DirEntry& entry : batch.entries()) {
    std::string e;
    entry.AppendPartialToString(&e);
    bytes += static_cast<char>(0x0a);  // field 1, length-delimited
    bytes += static_cast<char>(e.size());
    bytes += e;
  }
  return bytes;
}

TEST(ListDirCallTest, BatchesArriveDecoded) {
  auto r = ListThrough({Batch({"a", "b"}), Batch({"c"})});
  ASSERT_TRUE(r.status.has_value());
  EXPECT_TRUE(r.status->ok()) << r.status->error_message();
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].entries(1).name(), "b");
  EXPECT_EQ(r.messages[1].entries(0).name(), "c");
}

TEST(ListDirCallTest, ABatchThatDoesNotParseFailsTheListing) {
  // A name that is not UTF-8: gRPC's own parser refuses the batch and only
  // stops reading, and the backend's OK then ended the listing as if
  // complete (the names after it silently missing).
  auto r = ListThrough({Batch({"a"}), Batch({"ok", "lat\xe9"}), Batch({"z"})});
  ASSERT_TRUE(r.status.has_value());
  EXPECT_EQ(r.status->error_code(), grpc::StatusCode::INTERNAL);
  ASSERT_EQ(r.messages.size(), 1u);
  EXPECT_EQ(r.messages[0].entries(0).name(), "a");
}

}  // namespace
}  // namespace sftpgate::server::backend
