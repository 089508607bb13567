// SftpSession driven through an in-process BackendClient (no gRPC): the
// SFTP layer depends on the interface only, so a fake can script what the
// backend answers, including outcomes a real backend rarely produces on
// demand (a commit that fails after every chunk was accepted).

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "server/backend/backend_client.h"
#include "server/sftp/sftp_constants.h"
#include "tests/sftp/session_harness.h"

namespace sftpgate::testing {
namespace {

using server::backend::BackendClient;
using server::backend::BackendClientOptions;
using server::backend::DataChunk;
using server::backend::IncomingStream;
using server::backend::WriteStream;
using namespace server::sftp;  // NOLINT: SFTP constants

// What the fake serves and what it saw. Touched on the loop thread by the
// fake and on the test thread between requests (the harness waits for
// each reply, which the loop sends after the fake's work), so a mutex is
// enough.
struct FakeState {
  std::mutex mu;
  std::map<std::string, std::string> files;  // path -> contents; "/" a dir
  std::vector<std::string> calls;            // "Stat /a", "Write /b", ...
  grpc::Status remove_status;                // what Remove answers
  grpc::Status commit_status;                // what a Write's commit answers
  int describes = 0;                         // Describe calls (not in `calls`)
  int describe_failures = 0;  // Describe calls to fail before answering
  v1::DescribeResponse caps;  // what Describe answers then
  bool shut_down = false;
  // What Read streams delivered: (offset, length) of every chunk.
  std::vector<std::pair<uint64_t, uint64_t>> chunks_sent;

  // Bytes delivered whose offsets lie in [from, to).
  uint64_t BytesSentWithin(uint64_t from, uint64_t to) {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t n = 0;
    for (const auto& [offset, length] : chunks_sent) {
      const uint64_t lo = std::max(from, offset);
      const uint64_t hi = std::min(to, offset + length);
      if (lo < hi) n += hi - lo;
    }
    return n;
  }
  uint64_t BytesSent() { return BytesSentWithin(0, UINT64_MAX); }

  void Record(std::string call) {
    std::lock_guard<std::mutex> lock(mu);
    calls.push_back(std::move(call));
  }
};

// Serves a Read from FakeState's contents, one chunk per RequestNext().
class FakeReadStream : public IncomingStream<DataChunk>,
                       public std::enable_shared_from_this<FakeReadStream> {
 public:
  FakeReadStream(std::shared_ptr<server::backend::LoopPoster> poster,
                 std::shared_ptr<FakeState> state, std::string contents,
                 v1::ReadRequest request, Handler handler)
      : poster_(std::move(poster)),
        state_(std::move(state)),
        contents_(std::move(contents)),
        request_(std::move(request)),
        handler_(std::move(handler)),
        offset_(request_.offset()) {}

  void RequestNext() override {
    if (requested_ || finished_ || cancelled_) return;
    requested_ = true;
    // Answer on the loop later, never inside the caller.
    poster_->Post([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->Deliver();
    });
  }
  void Cancel() override { cancelled_ = true; }
  bool finished() const override { return finished_; }

 private:
  void Deliver() {
    requested_ = false;
    if (cancelled_) return;
    const uint64_t end =
        request_.length() == 0
            ? contents_.size()
            : std::min<uint64_t>(contents_.size(),
                                 request_.offset() + request_.length());
    if (offset_ >= end) {
      finished_ = true;
      handler_.on_finish(grpc::Status::OK);
      return;
    }
    const uint64_t n = std::min<uint64_t>(
        end - offset_,
        request_.chunk_size() == 0 ? 4096 : request_.chunk_size());
    DataChunk chunk(offset_, absl::string_view(contents_).substr(offset_, n));
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      state_->chunks_sent.emplace_back(offset_, n);
    }
    offset_ += n;
    handler_.on_message(std::move(chunk));
  }

  std::shared_ptr<server::backend::LoopPoster> poster_;
  std::shared_ptr<FakeState> state_;
  const std::string contents_;
  const v1::ReadRequest request_;
  Handler handler_;
  uint64_t offset_;
  bool requested_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

// Takes a Write's chunks at once (nothing stays queued) and commits them
// into FakeState on Close(), answering FakeState::commit_status.
class FakeWriteStream : public WriteStream,
                        public std::enable_shared_from_this<FakeWriteStream> {
 public:
  FakeWriteStream(std::shared_ptr<server::backend::LoopPoster> poster,
                  std::shared_ptr<FakeState> state, v1::WriteHeader header,
                  Handler handler)
      : poster_(std::move(poster)),
        state_(std::move(state)),
        header_(std::move(header)),
        handler_(std::move(handler)) {}

  void Write(uint64_t offset, absl::string_view data) override {
    if (closed_ || cancelled_) return;
    if (data_.size() < offset + data.size()) {
      data_.resize(offset + data.size());
    }
    data_.replace(offset, data.size(), data.data(), data.size());
  }
  void Close() override {
    if (closed_ || cancelled_) return;
    closed_ = true;
    poster_->Post([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->Commit();
    });
  }
  void Cancel() override { cancelled_ = true; }
  void set_want_progress(bool) override {}
  size_t queued_bytes() const override { return 0; }
  bool finished() const override { return finished_; }

 private:
  void Commit() {
    if (cancelled_) return;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      status = state_->commit_status;
      if (status.ok()) state_->files[header_.path()] = data_;
    }
    finished_ = true;
    handler_.on_finish(status, data_.size());
  }

  std::shared_ptr<server::backend::LoopPoster> poster_;
  std::shared_ptr<FakeState> state_;
  const v1::WriteHeader header_;
  Handler handler_;
  std::string data_;
  bool closed_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

class FakeBackendClient
    : public BackendClient,
      public std::enable_shared_from_this<FakeBackendClient> {
 public:
  FakeBackendClient(std::shared_ptr<FakeState> state,
                    BackendClientOptions options)
      : state_(std::move(state)), options_(std::move(options)) {}

  void Describe(v1::DescribeRequest, Done<v1::DescribeResponse> done) override {
    v1::DescribeResponse caps;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      ++state_->describes;
      if (state_->describe_failures > 0) {
        --state_->describe_failures;
        status =
            grpc::Status(grpc::StatusCode::UNAVAILABLE, "Connection refused");
      }
      caps = state_->caps;
    }
    Answer(status, std::move(caps), std::move(done));
  }
  void Stat(v1::StatRequest request, Done<v1::StatResponse> done) override {
    state_->Record("Stat " + request.path());
    v1::StatResponse response;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      auto it = state_->files.find(request.path());
      if (request.path() == "/") {
        response.mutable_attributes()->set_mode(040755);
      } else if (it != state_->files.end()) {
        response.mutable_attributes()->set_mode(0100644);
        response.mutable_attributes()->set_size(it->second.size());
      } else {
        status = grpc::Status(grpc::StatusCode::NOT_FOUND, "");
      }
    }
    Answer(status, std::move(response), std::move(done));
  }
  void Remove(v1::RemoveRequest request,
              Done<v1::RemoveResponse> done) override {
    state_->Record("Remove " + request.path());
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      status = state_->remove_status;
    }
    Answer(status, v1::RemoveResponse(), std::move(done));
  }
  void MakeDir(v1::MakeDirRequest, Done<v1::MakeDirResponse> done) override {
    Unimplemented(std::move(done));
  }
  void RemoveDir(v1::RemoveDirRequest,
                 Done<v1::RemoveDirResponse> done) override {
    Unimplemented(std::move(done));
  }
  void Rename(v1::RenameRequest, Done<v1::RenameResponse> done) override {
    Unimplemented(std::move(done));
  }
  void SetStat(v1::SetStatRequest, Done<v1::SetStatResponse> done) override {
    Unimplemented(std::move(done));
  }
  void Symlink(v1::SymlinkRequest, Done<v1::SymlinkResponse> done) override {
    Unimplemented(std::move(done));
  }
  void ReadLink(v1::ReadLinkRequest, Done<v1::ReadLinkResponse> done) override {
    Unimplemented(std::move(done));
  }
  void Link(v1::LinkRequest, Done<v1::LinkResponse> done) override {
    Unimplemented(std::move(done));
  }
  void RealPath(v1::RealPathRequest, Done<v1::RealPathResponse> done) override {
    Unimplemented(std::move(done));
  }
  void StatFs(v1::StatFsRequest, Done<v1::StatFsResponse> done) override {
    v1::StatFsResponse fs;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->caps.stat_fs()) return Unimplemented(std::move(done));
    }
    fs.set_block_size(4096);
    fs.set_blocks(1000);
    Answer(grpc::Status::OK, std::move(fs), std::move(done));
  }
  void Usage(v1::UsageRequest, Done<v1::UsageResponse> done) override {
    state_->Record("Usage");
    v1::UsageResponse usage;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (!state_->caps.usage()) return Unimplemented(std::move(done));
      for (const auto& [path, contents] : state_->files) {
        usage.set_bytes(usage.bytes() + contents.size());
        usage.set_files(usage.files() + 1);
      }
    }
    Answer(grpc::Status::OK, std::move(usage), std::move(done));
  }
  void Hash(v1::HashRequest, Done<v1::HashResponse> done) override {
    Unimplemented(std::move(done));
  }

  std::shared_ptr<IncomingStream<DataChunk>> Read(
      v1::ReadRequest request,
      IncomingStream<DataChunk>::Handler handler) override {
    state_->Record("Read " + request.path());
    std::string contents;
    {
      std::lock_guard<std::mutex> lock(state_->mu);
      contents = state_->files[request.path()];
    }
    auto stream = std::make_shared<FakeReadStream>(
        options_.poster, state_, std::move(contents), std::move(request),
        std::move(handler));
    stream->RequestNext();
    return stream;
  }
  std::shared_ptr<IncomingStream<v1::ListDirResponse>> ListDir(
      v1::ListDirRequest,
      IncomingStream<v1::ListDirResponse>::Handler) override {
    ADD_FAILURE() << "ListDir is not used by these tests";
    return nullptr;
  }
  std::shared_ptr<WriteStream> Write(v1::WriteHeader header,
                                     WriteStream::Handler handler) override {
    state_->Record("Write " + header.path());
    return std::make_shared<FakeWriteStream>(
        options_.poster, state_, std::move(header), std::move(handler));
  }

  void Shutdown() override {
    shut_down_ = true;
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->shut_down = true;
  }
  std::chrono::milliseconds call_timeout() const override {
    return options_.call_timeout;
  }
  server::backend::TransferBudget& budget() const override {
    return *options_.budget;
  }

 private:
  // Answers on the loop, later (as the contract requires), unless shut
  // down by then.
  template <typename Resp>
  void Answer(grpc::Status status, Resp response, Done<Resp> done) {
    options_.poster->Post([weak = weak_from_this(), status = std::move(status),
                           response = std::move(response),
                           done = std::move(done)]() mutable {
      auto self = weak.lock();
      if (self != nullptr && !self->shut_down_) done(status, response);
    });
  }
  template <typename Resp>
  void Unimplemented(Done<Resp> done) {
    Answer(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""), Resp(),
           std::move(done));
  }

  std::shared_ptr<FakeState> state_;
  const BackendClientOptions options_;
  bool shut_down_ = false;
};

class FakeClientSessionTest : public ::testing::Test {
 protected:
  std::unique_ptr<SessionHarness> Connect(server::UserLimits quota = {}) {
    server::SftpLimits limits;
    limits.call_timeout_ms = 5000;
    auto harness = std::make_unique<SessionHarness>(
        [state = state_](BackendClientOptions options) {
          return std::make_shared<FakeBackendClient>(state, std::move(options));
        },
        v1::Session(), limits, /*total_budget=*/nullptr, quota);
    harness->Init();
    return harness;
  }

  // Stores a `size`-byte file at `path` whose bytes vary with their
  // offset; returns its contents.
  std::string AddPatternFile(const std::string& path, size_t size) {
    std::string contents(size, '\0');
    for (size_t i = 0; i < size; ++i) contents[i] = char(i * 7 % 251);
    state_->files[path] = contents;
    return contents;
  }

  int Describes() {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->describes;
  }
  int Calls(const std::string& call) {
    std::lock_guard<std::mutex> lock(state_->mu);
    return std::count(state_->calls.begin(), state_->calls.end(), call);
  }

  std::shared_ptr<FakeState> state_ = std::make_shared<FakeState>();
};

TEST_F(FakeClientSessionTest, UnaryAnswersAndErrorsReachTheClient) {
  state_->files["/a.txt"] = "hello";
  state_->remove_status =
      grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no way");
  auto s = Connect();

  Reply stat = s->PathOp(kFxpStat, "/dir/../a.txt");
  ASSERT_EQ(stat.type, kFxpAttrs);
  EXPECT_EQ(stat.attrs().size(), 5u);
  Reply missing = s->PathOp(kFxpLstat, "/nope");
  EXPECT_EQ(missing.status(), kFxNoSuchFile);
  Reply removed = s->PathOp(kFxpRemove, "/a.txt");
  EXPECT_EQ(removed.status(), kFxPermissionDenied);
  EXPECT_EQ(removed.message(), "no way");
  const uint32_t id = s->NextId();
  Reply mkdir =
      s->Call(PacketBuilder(kFxpMkdir).U32(id).Str("/d").Attrs({}), id);
  EXPECT_EQ(mkdir.status(), kFxOpUnsupported);

  std::lock_guard<std::mutex> lock(state_->mu);
  // Paths reach the backend normalized.
  EXPECT_EQ(state_->calls[0], "Stat /a.txt");
  EXPECT_EQ(state_->calls[1], "Stat /nope");
  EXPECT_EQ(state_->calls[2], "Remove /a.txt");
}

TEST_F(FakeClientSessionTest, UploadCommitsAndCloseReportsTheCommit) {
  auto s = Connect();
  const std::string data(10000, 'x');
  Reply open = s->Open("/up.bin", kFxfWrite | kFxfCreat | kFxfTrunc);
  ASSERT_EQ(open.type, kFxpHandle);
  EXPECT_EQ(s->Write(open.handle(), 0, data.substr(0, 6000)).status(), kFxOk);
  EXPECT_EQ(s->Write(open.handle(), 6000, data.substr(6000)).status(), kFxOk);
  EXPECT_EQ(s->Close(open.handle()).status(), kFxOk);
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    EXPECT_EQ(state_->files["/up.bin"], data);
  }

  // A commit that fails after every WRITE was answered: CLOSE says so.
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->commit_status =
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "quota exceeded");
  }
  open = s->Open("/late.bin", kFxfWrite | kFxfCreat | kFxfTrunc);
  ASSERT_EQ(open.type, kFxpHandle);
  EXPECT_EQ(s->Write(open.handle(), 0, "abc").status(), kFxOk);
  Reply close = s->Close(open.handle());
  EXPECT_EQ(close.status(), kFxFailure);
  EXPECT_EQ(close.message(), "quota exceeded");
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_EQ(state_->files.count("/late.bin"), 0u);
}

TEST_F(FakeClientSessionTest, DownloadReadsThroughTheStream) {
  std::string contents;
  for (int i = 0; i < 70000; ++i) contents.push_back(char('a' + i % 26));
  state_->files["/f.bin"] = contents;
  auto s = Connect();
  Reply open = s->Open("/f.bin", kFxfRead);
  ASSERT_EQ(open.type, kFxpHandle);
  std::string got;
  for (;;) {
    Reply r = s->Read(open.handle(), got.size(), 32768);
    if (r.type == kFxpStatus) {
      EXPECT_EQ(r.status(), kFxEof);
      break;
    }
    ASSERT_EQ(r.type, kFxpData);
    got += r.data();
  }
  EXPECT_EQ(got, contents);
  EXPECT_EQ(s->Close(open.handle()).status(), kFxOk);
}

// A client may open many handles and read none (a reading handle per
// file, 256 per channel): each holds OPEN's first chunk and nothing more,
// in our buffers or (its Read call asking for no more) in gRPC's.
TEST_F(FakeClientSessionTest, AHandleNeverReadHoldsOneChunk) {
  constexpr uint64_t kMiB = 1024 * 1024;
  constexpr int kHandles = 8;
  AddPatternFile("/big", 16 * kMiB);
  auto s = Connect();
  for (int i = 0; i < kHandles; ++i) {
    EXPECT_EQ(s->Open("/big", kFxfRead).type, kFxpHandle);
  }
  // Time enough for a read-ahead to fill its buffers.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(state_->BytesSent(), kHandles * 32 * 1024u);
}

// OPEN's stream has ended where its chunk was cut before the first READ
// comes, and that READ is not at the start: the file goes on all the same
// (it answered EOF once, depending on timing).
TEST_F(FakeClientSessionTest, AFirstReadPastOpensChunkAfterItsStreamEnded) {
  constexpr uint32_t kChunk = 32 * 1024;
  const std::string contents = AddPatternFile("/big", 8 * kChunk);
  auto s = Connect();
  const std::string h = s->Open("/big", kFxfRead).handle();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (state_->BytesSent() < kChunk &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // its end
  EXPECT_EQ(s->Read(h, kChunk, kChunk).data(), contents.substr(kChunk, kChunk));
  EXPECT_EQ(s->Read(h, 5 * kChunk, kChunk).data(),
            contents.substr(5 * kChunk, kChunk));
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(FakeClientSessionTest, ReadFarAheadStartsAtItsOffsetNotStreamingTheGap) {
  constexpr uint64_t kMiB = 1024 * 1024;
  constexpr uint32_t kRead = 32 * 1024;
  const std::string contents = AddPatternFile("/big", 16 * kMiB);
  auto s = Connect();
  const std::string h = s->Open("/big", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, kRead).data(), contents.substr(0, kRead));
  // Let the read-ahead fill its 4 MiB (one chunk per request, so it
  // stops there).
  const uint64_t filled = kRead + 4 * kMiB;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (state_->BytesSent() < filled &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(state_->BytesSent(), filled);
  // A small READ 2 MiB past the buffered bytes: the bytes between are
  // never asked of the backend.
  const uint64_t far = 6 * kMiB;
  EXPECT_EQ(s->Read(h, far, kRead).data(), contents.substr(far, kRead));
  EXPECT_EQ(state_->BytesSentWithin(filled, far), 0u);
  // A READ one chunk past the position still rides the stream.
  const uint64_t near = far + 2 * kRead;
  EXPECT_EQ(s->Read(h, near, kRead).data(), contents.substr(near, kRead));
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  std::lock_guard<std::mutex> lock(state_->mu);
  // OPEN's first chunk, its continuation, and the far READ's stream.
  EXPECT_EQ(std::count(state_->calls.begin(), state_->calls.end(), "Read /big"),
            3);
}

// A READ that takes the rest of a chunk gets the chunk's own buffer, with
// its header framed in front; but not when most of that buffer lies before
// the bytes it answers: a client reading the last byte of every chunk
// must not make each queued reply hold a whole chunk.
TEST_F(FakeClientSessionTest, ATinyReadAtAChunksEndDoesNotHoldTheChunk) {
  constexpr uint32_t kChunk = 32 * 1024;
  const std::string contents = AddPatternFile("/f", 8 * kChunk);
  auto s = Connect();
  const std::string h = s->Open("/f", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, kChunk).data(), contents.substr(0, kChunk));
  for (uint64_t end = 2 * kChunk; end <= contents.size(); end += kChunk) {
    EXPECT_EQ(s->Read(h, end - 1, 1).data(), contents.substr(end - 1, 1));
  }
  EXPECT_FALSE(s->sink().wasteful_buffer.load());
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

// A session that started while its backend was unreachable does not know
// whether the backend reports usage: an upload of a user with a quota gets
// the backend's error (never a quota refusal) until Describe, asked again
// when needed but at most once a second, answers; then it works.
TEST_F(FakeClientSessionTest, AFailedDescribeIsAskedAgainWhenAQuotaNeedsIt) {
  state_->describe_failures = 1;
  state_->caps.set_usage(true);
  server::UserLimits quota;
  quota.quota_bytes = 1 << 20;
  auto s = Connect(quota);
  constexpr uint32_t kCreate = kFxfWrite | kFxfCreat | kFxfTrunc;

  Reply early = s->Open("/a.bin", kCreate);
  EXPECT_EQ(early.status(), kFxFailure);
  EXPECT_EQ(early.message(), "backend unavailable");
  EXPECT_EQ(Describes(), 1);  // not asked again within the second
  EXPECT_EQ(Calls("Usage"), 0);

  s->AdvanceClock(std::chrono::milliseconds(1100));
  Reply open = s->Open("/a.bin", kCreate);
  ASSERT_EQ(open.type, kFxpHandle) << open.message();
  EXPECT_EQ(s->Write(open.handle(), 0, "abc").status(), kFxOk);
  EXPECT_EQ(s->Close(open.handle()).status(), kFxOk);
  EXPECT_EQ(Describes(), 2);
  EXPECT_EQ(Calls("Usage"), 1);
  // Known from now on: not asked again.
  Reply again = s->Open("/b.bin", kCreate);
  ASSERT_EQ(again.type, kFxpHandle) << again.message();
  EXPECT_EQ(s->Close(again.handle()).status(), kFxOk);
  EXPECT_EQ(Describes(), 2);
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_EQ(state_->files["/a.bin"], "abc");
}

// Extensions that depend on the backend's capabilities are not answered
// "unsupported" just because Describe failed once.
TEST_F(FakeClientSessionTest, AnExtensionWaitsForDescribeInsteadOfRefusing) {
  state_->describe_failures = 1;
  state_->caps.set_stat_fs(true);
  auto s = Connect();
  Reply early = s->Extended("statvfs@openssh.com", PacketBuilder(0).Str("/"));
  EXPECT_EQ(early.status(), kFxFailure);
  EXPECT_EQ(early.message(), "backend unavailable");
  s->AdvanceClock(std::chrono::milliseconds(1100));
  Reply statvfs = s->Extended("statvfs@openssh.com", PacketBuilder(0).Str("/"));
  EXPECT_EQ(statvfs.type, kFxpExtendedReply);
  EXPECT_EQ(Describes(), 2);
}

TEST_F(FakeClientSessionTest, SessionShutdownShutsTheClientDown) {
  auto s = Connect();
  s.reset();
  std::lock_guard<std::mutex> lock(state_->mu);
  EXPECT_TRUE(state_->shut_down);
}

}  // namespace
}  // namespace sftpgate::testing
