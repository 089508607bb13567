// How the host drives FileWriter: header first, chunks in order, Commit on
// a clean half-close, Abort (and never Commit) on cancel, error or
// shutdown; non-sequential offsets refused unless the backend takes them.

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

using Record = RecordingBackend::Record;

bool HasUploadWith(const Record& r, size_t writes) {
  return r.uploads.size() == 1 && r.uploads[0].writes.size() >= writes;
}

bool UploadEnded(const Record& r) {
  return r.uploads.size() == 1 &&
         (r.uploads[0].aborted || r.uploads[0].committed);
}

class WriteStreamTest : public ::testing::Test {
 protected:
  void Serve(RecordingBackend::Options options = {}) {
    backend_ = std::make_unique<RecordingBackend>(options);
    auto served = ServedBackend::Start(backend_.get());
    ASSERT_TRUE(served.ok()) << served.status();
    served_ = *std::move(served);
  }
  TestClient& client() { return served_->client(); }
  // Waits for the single upload to end and returns it.
  RecordingBackend::Upload EndedUpload() {
    EXPECT_TRUE(backend_->Await(UploadEnded));
    Record r = backend_->record();
    return r.uploads.empty() ? RecordingBackend::Upload() : r.uploads[0];
  }

  std::unique_ptr<RecordingBackend> backend_;
  std::unique_ptr<ServedBackend> served_;
};

TEST_F(WriteStreamTest, HalfCloseCommits) {
  Serve();
  WriteOptions options;
  options.chunk_size = 3;
  absl::StatusOr<uint64_t> size = client().WriteFile("/f", "abcdefgh", options);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 8u);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.committed);
  EXPECT_FALSE(upload.aborted);
  EXPECT_EQ(upload.header.path(), "/f");
  ASSERT_EQ(upload.writes.size(), 3u);
  EXPECT_EQ(upload.writes[0], std::make_pair(uint64_t{0}, std::string("abc")));
  EXPECT_EQ(upload.writes[1], std::make_pair(uint64_t{3}, std::string("def")));
  EXPECT_EQ(upload.writes[2], std::make_pair(uint64_t{6}, std::string("gh")));
}

TEST_F(WriteStreamTest, EmptyUploadCommits) {
  Serve();
  absl::StatusOr<uint64_t> size = client().WriteFile("/empty", "");
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 0u);
  EXPECT_TRUE(EndedUpload().committed);
}

TEST_F(WriteStreamTest, CancelAbortsAndNeverCommits) {
  Serve();
  std::unique_ptr<WriteStream> stream =
      client().OpenWrite(MakeWriteHeader("/f"));
  ASSERT_TRUE(stream->Send(0, "partial"));
  // Make sure the backend holds a writer with data before cancelling.
  ASSERT_TRUE(
      backend_->Await([](const Record& r) { return HasUploadWith(r, 1); }));
  EXPECT_EQ(stream->Cancel().code(), absl::StatusCode::kCancelled);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

TEST_F(WriteStreamTest, ServerShutdownAbortsUploadsInFlight) {
  Serve();
  std::unique_ptr<WriteStream> stream =
      client().OpenWrite(MakeWriteHeader("/f"));
  ASSERT_TRUE(stream->Send(0, "partial"));
  ASSERT_TRUE(
      backend_->Await([](const Record& r) { return HasUploadWith(r, 1); }));
  served_->server().Shutdown();
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
  EXPECT_FALSE(stream->Finish().ok());
}

TEST_F(WriteStreamTest, NonSequentialOffsetRefusedWithoutRandomWrites) {
  Serve();
  std::unique_ptr<WriteStream> stream =
      client().OpenWrite(MakeWriteHeader("/f"));
  stream->Send(0, "abc");
  stream->Send(10, "xyz");  // a hole: not sequential
  absl::StatusOr<uint64_t> size = stream->Finish();
  EXPECT_EQ(size.status().code(), absl::StatusCode::kInvalidArgument);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
  ASSERT_EQ(upload.writes.size(), 1u);  // the bad chunk never reached it
}

TEST_F(WriteStreamTest, FirstChunkMustStartAtHeaderOffset) {
  Serve();
  WriteHeader header = MakeWriteHeader("/f");
  header.set_offset(100);
  std::unique_ptr<WriteStream> stream = client().OpenWrite(header);
  stream->Send(0, "abc");
  EXPECT_EQ(stream->Finish().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EndedUpload().aborted);
}

TEST_F(WriteStreamTest, SequentialFromHeaderOffsetAccepted) {
  Serve();
  WriteOptions options;
  options.offset = 100;
  options.chunk_size = 2;
  options.flags = v1::WriteHeader::FLAG_NONE;
  absl::StatusOr<uint64_t> size = client().WriteFile("/f", "abcde", options);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 105u);
  RecordingBackend::Upload upload = EndedUpload();
  ASSERT_EQ(upload.writes.size(), 3u);
  EXPECT_EQ(upload.writes[2].first, 104u);
}

TEST_F(WriteStreamTest, RandomOffsetsAcceptedWhenBackendTakesThem) {
  RecordingBackend::Options options;
  options.random_writes = true;
  Serve(options);
  std::unique_ptr<WriteStream> stream =
      client().OpenWrite(MakeWriteHeader("/f"));
  stream->Send(10, "xyz");
  stream->Send(0, "abc");
  absl::StatusOr<uint64_t> size = stream->Finish();
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 13u);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.committed);
  ASSERT_EQ(upload.writes.size(), 2u);
  EXPECT_EQ(upload.writes[0].first, 10u);
  EXPECT_EQ(upload.writes[1].first, 0u);
}

TEST_F(WriteStreamTest, BackendWriteErrorAbortsAndReachesClient) {
  RecordingBackend::Options options;
  options.fail_writes_from = 4;
  Serve(options);
  WriteOptions write;
  write.chunk_size = 4;
  absl::StatusOr<uint64_t> size =
      client().WriteFile("/f", std::string(64, 'x'), write);
  EXPECT_EQ(size.status().code(), absl::StatusCode::kResourceExhausted);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

// Raw streams that break the protocol.
class MalformedWriteTest : public WriteStreamTest {
 protected:
  void SetUp() override { Serve(); }
  // Sends `messages` as they are, half-closes and returns the status.
  absl::Status SendRaw(const std::vector<v1::WriteRequest>& messages) {
    grpc::ClientContext context;
    client().SetDeadline(&context);
    v1::WriteResponse response;
    auto writer = client().stub()->Write(&context, &response);
    for (const v1::WriteRequest& m : messages) {
      if (!writer->Write(m)) break;
    }
    writer->WritesDone();
    return FromGrpc(writer->Finish());
  }
  v1::WriteRequest Header(bool with_session = true) {
    v1::WriteRequest m;
    if (with_session) *m.mutable_session() = client().session();
    *m.mutable_header() = MakeWriteHeader("/f");
    return m;
  }
  v1::WriteRequest Chunk(uint64_t offset, const std::string& data) {
    v1::WriteRequest m;
    m.mutable_chunk()->set_offset(offset);
    m.mutable_chunk()->set_data(data);
    return m;
  }
};

TEST_F(MalformedWriteTest, EmptyStream) {
  EXPECT_EQ(SendRaw({}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend_->record().uploads.empty());
}

TEST_F(MalformedWriteTest, ChunkBeforeHeader) {
  EXPECT_EQ(SendRaw({Chunk(0, "a"), Header()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend_->record().uploads.empty());
}

TEST_F(MalformedWriteTest, HeaderWithoutSession) {
  EXPECT_EQ(SendRaw({Header(false), Chunk(0, "a")}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend_->record().uploads.empty());
}

TEST_F(MalformedWriteTest, SecondHeaderAborts) {
  EXPECT_EQ(SendRaw({Header(), Chunk(0, "a"), Header()}).code(),
            absl::StatusCode::kInvalidArgument);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

v1::WriteRequest Commit() {
  v1::WriteRequest m;
  m.mutable_commit();
  return m;
}

// The end of the request stream alone must never publish an upload: only
// an explicit commit does (a cancel can look like a half-close).
TEST_F(MalformedWriteTest, HalfCloseWithoutCommitAborts) {
  EXPECT_EQ(SendRaw({Header(), Chunk(0, "abc")}).code(),
            absl::StatusCode::kAborted);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

TEST_F(MalformedWriteTest, CommitThenHalfCloseCommits) {
  EXPECT_TRUE(SendRaw({Header(), Chunk(0, "abc"), Commit()}).ok());
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.committed);
  EXPECT_FALSE(upload.aborted);
}

TEST_F(MalformedWriteTest, MessageAfterCommitAborts) {
  EXPECT_EQ(SendRaw({Header(), Chunk(0, "a"), Commit(), Chunk(1, "b")}).code(),
            absl::StatusCode::kInvalidArgument);
  RecordingBackend::Upload upload = EndedUpload();
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

TEST_F(MalformedWriteTest, MessageWithoutChunkAborts) {
  EXPECT_EQ(SendRaw({Header(), v1::WriteRequest()}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(EndedUpload().aborted);
}

}  // namespace
}  // namespace sftpgate::testing
