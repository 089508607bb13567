// Streaming reads (chunk sizes, offsets, length, clamping) and listings
// (batches, stop on cancel) as the host serves them; plus health checks.

#include <chrono>
#include <future>
#include <string>
#include <vector>

#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

struct Served {
  explicit Served(RecordingBackend::Options backend_options,
                  ServeOptions options = {})
      : backend(backend_options) {
    auto started = ServedBackend::Start(&backend, options);
    EXPECT_TRUE(started.ok()) << started.status();
    if (started.ok()) served = *std::move(started);
  }
  TestClient& client() { return served->client(); }
  RecordingBackend backend;
  std::unique_ptr<ServedBackend> served;
};

std::vector<size_t> Sizes(const std::vector<v1::ReadChunk>& chunks) {
  std::vector<size_t> sizes;
  for (const v1::ReadChunk& c : chunks) sizes.push_back(c.data().size());
  return sizes;
}

TEST(ReadStreamTest, ChunksAtRequestedSize) {
  RecordingBackend::Options o;
  o.content = Pattern(1000);
  Served s(o);
  ASSERT_TRUE(s.served);
  auto chunks = s.client().ReadChunks("/f", 0, 0, 300);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  EXPECT_EQ(Sizes(*chunks), (std::vector<size_t>{300, 300, 300, 100}));
  EXPECT_EQ((*chunks)[3].offset(), 900u);
  EXPECT_EQ(*s.client().ReadFile("/f", 0, 0, 300), o.content);
}

TEST(ReadStreamTest, OffsetAndLength) {
  RecordingBackend::Options o;
  o.content = Pattern(1000);
  Served s(o);
  ASSERT_TRUE(s.served);
  EXPECT_EQ(*s.client().ReadFile("/f", 990), o.content.substr(990));
  EXPECT_EQ(*s.client().ReadFile("/f", 100, 250, 100),
            o.content.substr(100, 250));
  auto chunks = s.client().ReadChunks("/f", 100, 250, 100);
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(Sizes(*chunks), (std::vector<size_t>{100, 100, 50}));
  // Length past EOF stops at EOF; at or past EOF gives no chunks.
  EXPECT_EQ(*s.client().ReadFile("/f", 900, 5000), o.content.substr(900));
  EXPECT_TRUE(s.client().ReadChunks("/f", 1000)->empty());
  EXPECT_TRUE(s.client().ReadChunks("/f", 5000)->empty());
}

TEST(ReadStreamTest, DefaultAndClampedChunkSizes) {
  RecordingBackend::Options o;
  o.content = Pattern(10000);
  ServeOptions serve;
  serve.preferred_chunk_size = 1000;
  serve.max_chunk_size = 4096;
  Served s(o, serve);
  ASSERT_TRUE(s.served);
  auto chunks = s.client().ReadChunks("/f");  // chunk_size 0: preferred
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(chunks->size(), 10u);
  chunks = s.client().ReadChunks("/f", 0, 0, 1 << 20);  // clamped to max
  ASSERT_TRUE(chunks.ok());
  EXPECT_EQ(Sizes(*chunks), (std::vector<size_t>{4096, 4096, 1808}));
}

TEST(ReadStreamTest, CancelStopsTheBackendReading) {
  RecordingBackend::Options o;
  // Far more than HTTP/2 flow control lets the host send unread.
  o.content = std::string(256 << 20, 'x');
  Served s(o);
  ASSERT_TRUE(s.served);
  {
    grpc::ClientContext context;
    s.client().SetDeadline(&context);
    v1::ReadRequest request;
    *request.mutable_session() = s.client().session();
    request.set_path("/f");
    request.set_chunk_size(64 << 10);
    auto reader = s.client().stub()->Read(&context, request);
    v1::ReadChunk chunk;
    ASSERT_TRUE(reader->Read(&chunk));
    context.TryCancel();
    while (reader->Read(&chunk)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  ASSERT_TRUE(s.backend.Await([](const RecordingBackend::Record& r) {
    return !r.reads_ended.empty();
  }));
  // The host stops at the first chunk it cannot send; what it read stays
  // within the flow-control window (a few MiB), nowhere near the file.
  EXPECT_LT(s.backend.record().reads_ended[0], uint64_t{64} << 20);
}

TEST(ListStreamTest, BatchesEntries) {
  RecordingBackend::Options o;
  o.list_entries = 1000;
  ServeOptions serve;
  serve.list_batch_size = 64;
  Served s(o, serve);
  ASSERT_TRUE(s.served);
  auto listing = s.client().ListDir("/d");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->entries.size(), 1000u);
  EXPECT_EQ(listing->messages, 16);  // ceil(1000 / 64)
  EXPECT_EQ(listing->entries[999].name(), "e999");
  EXPECT_EQ(listing->entries[999].attributes().size(), 999u);
}

TEST(ListStreamTest, EmptyDirectoryEndsCleanly) {
  Served s(RecordingBackend::Options{});
  ASSERT_TRUE(s.served);
  auto listing = s.client().ListDir("/d");
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->messages, 0);
}

TEST(ListStreamTest, CancelStopsTheBackendListing) {
  RecordingBackend::Options o;
  o.list_entries = 100'000'000;  // far more than would ever be sent
  ServeOptions serve;
  serve.list_batch_size = 16;
  Served s(o, serve);
  ASSERT_TRUE(s.served);
  {
    grpc::ClientContext context;
    s.client().SetDeadline(&context);
    v1::ListDirRequest request;
    *request.mutable_session() = s.client().session();
    request.set_path("/d");
    auto reader = s.client().stub()->ListDir(&context, request);
    v1::ListDirResponse batch;
    ASSERT_TRUE(reader->Read(&batch));
    EXPECT_EQ(batch.entries_size(), 16);
    context.TryCancel();
    while (reader->Read(&batch)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  ASSERT_TRUE(s.backend.Await(
      [](const RecordingBackend::Record& r) { return !r.listings.empty(); }));
  auto listing = s.backend.record().listings[0];
  EXPECT_EQ(listing.second.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(listing.first, o.list_entries);
}

TEST(HealthTest, ReportsServing) {
  RecordingBackend backend;
  auto served = ServedBackend::Start(&backend);
  ASSERT_TRUE(served.ok());
  // grpc.health.v1.Health/Check with an empty HealthCheckRequest; the
  // response's field 1 (status) is SERVING = 1, encoded as 08 01.
  grpc::GenericStub stub((*served)->channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(20));
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(),
                 &request, &response,
                 [&](grpc::Status status) { done.set_value(status); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));
}

TEST(ServerTest, PortZeroPicksAPortAndBusyPortFails) {
  RecordingBackend backend;
  auto first = StartLocalServer(&backend);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_GT((*first)->port(), 0);
  ServeOptions options;
  options.listen_address = LocalTarget(**first);
  auto second = StartBackendServer(options, &backend);
  EXPECT_FALSE(second.ok());
  // Bad sizes are refused up front.
  options.listen_address = "127.0.0.1:0";
  options.preferred_chunk_size = options.max_chunk_size + 1;
  EXPECT_EQ(StartBackendServer(options, &backend).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sftpgate::testing
