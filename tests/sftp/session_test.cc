// SftpSession driven with raw SFTP packets on a test loop, against a real
// gRPC backend (FakeBackend on 127.0.0.1).

#include <time.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "server/backend/backend_channel.h"
#include "server/common/metrics.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/sftp_constants.h"
#include "tests/backend/grpc_test_runtime.h"
#include "tests/sftp/fake_backend.h"
#include "tests/sftp/session_harness.h"

namespace sftpgate::testing {
namespace {

using namespace server::sftp;  // NOLINT: wire constants
using std::chrono::milliseconds;

std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1103515245 + 12345;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

std::vector<std::string> ExtensionNames(const Reply& version) {
  PacketReader in(version.body);
  uint32_t v = 0;
  EXPECT_TRUE(in.ReadU32(&v));
  EXPECT_EQ(v, 3u);
  std::vector<std::string> names;
  while (in.remaining() > 0) {
    absl::string_view name, data;
    EXPECT_TRUE(in.ReadString(&name) && in.ReadString(&data));
    names.emplace_back(name);
  }
  return names;
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);  // long names use local time
    tzset();
    server_ = std::make_unique<FakeServer>(&backend_);
  }

  std::unique_ptr<SessionHarness> Connect(
      bool read_only = false, server::SftpLimits limits = DefaultLimits(),
      std::string target = "",
      std::shared_ptr<server::backend::TransferBudget> total_budget = nullptr) {
    server::BackendChannelOptions channel;
    channel.target = target.empty() ? server_->target() : target;
    v1::Session session;
    session.set_session_id("s1");
    session.set_user("alice");
    session.set_root("/");
    session.set_read_only(read_only);
    auto harness = std::make_unique<SessionHarness>(
        server::MakeBackendStub(channel), session, limits,
        std::move(total_budget));
    harness->Init();
    return harness;
  }

  static server::SftpLimits DefaultLimits() {
    server::SftpLimits limits;
    limits.call_timeout_ms = 5000;
    return limits;
  }

  void AllCapabilities() {
    v1::DescribeResponse d;
    d.set_symlinks(true);
    d.set_hard_links(true);
    d.set_stat_fs(true);
    d.set_real_path(true);
    d.set_random_write(true);
    d.set_set_stat_no_follow(true);
    backend_.SetDescribe(d);
  }

  // Uploads `data` with SFTP in one WRITE per `chunk` bytes.
  void Upload(SessionHarness& s, const std::string& path,
              const std::string& data, size_t chunk = 32 * 1024) {
    const std::string h =
        s.Open(path, kFxfWrite | kFxfCreat | kFxfTrunc).handle();
    for (size_t off = 0; off < data.size(); off += chunk) {
      ASSERT_EQ(s.Write(h, off, data.substr(off, chunk)).status(), kFxOk);
    }
    ASSERT_EQ(s.Close(h).status(), kFxOk);
  }

  FakeBackend backend_;
  std::unique_ptr<FakeServer> server_;
};

TEST_F(SessionTest, VersionAdvertisesOnlyWhatDescribeAllows) {
  {
    auto s = Connect();
    const auto names = ExtensionNames(*s->Wait(CapturingSink::kVersion));
    EXPECT_EQ(names,
              (std::vector<std::string>{
                  "posix-rename@openssh.com", "fsync@openssh.com",
                  "limits@openssh.com", "expand-path@openssh.com", "copy-data",
                  "home-directory", "users-groups-by-id@openssh.com",
                  "check-file-name", "check-file-handle"}));
  }
  AllCapabilities();
  auto s = Connect();
  const auto names = ExtensionNames(*s->Wait(CapturingSink::kVersion));
  EXPECT_EQ(names,
            (std::vector<std::string>{
                "posix-rename@openssh.com", "statvfs@openssh.com",
                "fstatvfs@openssh.com", "hardlink@openssh.com",
                "fsync@openssh.com", "lsetstat@openssh.com",
                "limits@openssh.com", "expand-path@openssh.com", "copy-data",
                "home-directory", "users-groups-by-id@openssh.com",
                "check-file-name", "check-file-handle"}));
}

TEST_F(SessionTest, UploadThenDownloadRoundTrip) {
  auto s = Connect();
  const std::string data = Pattern(300 * 1024 + 7);
  Upload(*s, "/up.bin", data);
  EXPECT_TRUE(backend_.FileData("/up.bin") == data);
  EXPECT_EQ(backend_.committed_uploads.load(), 1);

  const std::string h = s->Open("/up.bin", kFxfRead).handle();
  std::string got;
  while (true) {
    Reply r = s->Read(h, got.size(), 64 * 1024);
    if (r.type == kFxpStatus) {
      EXPECT_EQ(r.status(), kFxEof);
      break;
    }
    got += r.data();
  }
  EXPECT_TRUE(got == data);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(s->InFlight(), 0u);
}

TEST_F(SessionTest, PipelinedReadsShareOneReadAheadStream) {
  const std::string data = Pattern(1 << 20, 7);
  backend_.PutFile("/big", data);
  auto s = Connect();
  const std::string h = s->Open("/big", kFxfRead).handle();
  constexpr uint32_t kLen = 32 * 1024;
  std::string batch;
  std::vector<uint32_t> ids;
  for (uint32_t off = 0; off < data.size(); off += kLen) {
    ids.push_back(s->NextId());
    batch += PacketBuilder(kFxpRead)
                 .U32(ids.back())
                 .Str(h)
                 .U64(off)
                 .U32(kLen)
                 .Build();
  }
  s->Feed(batch);  // 32 READs in flight at once, as OpenSSH pipelines
  std::string got;
  for (uint32_t id : ids) {
    auto r = s->Wait(id);
    ASSERT_TRUE(r.has_value());
    got += r->data();
  }
  EXPECT_TRUE(got == data);
  // OPEN's stream stops after its first chunk (an unread handle holds no
  // more); the first READ continues it to end of file: two calls.
  EXPECT_EQ(backend_.read_streams.load(), 2);

  // A seek backwards restarts the stream at the new offset.
  EXPECT_EQ(s->Read(h, 100, 1000).data(), data.substr(100, 1000));
  EXPECT_EQ(backend_.read_streams.load(), 3);
  // Continuing sequentially does not.
  EXPECT_EQ(s->Read(h, 1100, 5000).data(), data.substr(1100, 5000));
  // A small skip ahead within the buffer does not either.
  EXPECT_EQ(s->Read(h, 6200, 300).data(), data.substr(6200, 300));
  EXPECT_EQ(backend_.read_streams.load(), 3);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, ReadStreamBrokenByAReplicaIsResumedWhereItStopped) {
  const std::string data = Pattern(1 << 20, 5);
  backend_.PutFile("/big", data);
  auto s = Connect();
  // The first stream (OPEN starts it) breaks after one chunk, and so does
  // its resumption: the READs still get every byte, in order, no error.
  backend_.streams_to_break = 2;
  const std::string h = s->Open("/big", kFxfRead).handle();
  std::string got;
  // READs of OPEN's chunk size: no second stream of that kind (see
  // OpenStreamGoesOnInChunksOfTheFirstReadsSize) to count.
  for (uint32_t off = 0; off < data.size(); off += 32 * 1024) {
    Reply r = s->Read(h, off, 32 * 1024);
    ASSERT_EQ(r.type, kFxpData) << "at " << off;
    got += r.data();
  }
  EXPECT_TRUE(got == data);
  EXPECT_EQ(backend_.read_streams.load(), 3);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, ReadStreamFailsAfterRepeatedUnavailable) {
  const std::string data = Pattern(1 << 20, 5);
  backend_.PutFile("/big", data);
  auto s = Connect();
  const std::string h = s->Open("/big", kFxfRead).handle();
  // OPEN's chunk, then a READ past it: its continuation (two streams).
  EXPECT_EQ(s->Read(h, 0, 32 * 1024).data(), data.substr(0, 32 * 1024));
  EXPECT_EQ(s->Read(h, 32 * 1024, 1000).data(), data.substr(32 * 1024, 1000));
  // Seeking back restarts the stream, and now no stream brings a byte: the
  // READ fails after that stream and two resumptions, rather than trying
  // forever.
  backend_.break_after_messages = 0;
  backend_.streams_to_break = 1000;
  Reply r = s->Read(h, 0, 64 * 1024);
  EXPECT_EQ(r.type, kFxpStatus);
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(backend_.read_streams.load(), 2 + 3);
  // So does an OPEN for reading, which starts a stream of its own.
  EXPECT_EQ(s->Open("/big", kFxfRead).status(), kFxFailure);
  EXPECT_EQ(backend_.read_streams.load(), 2 + 3 + 3);
  // Once the backend serves again, the next READ starts a fresh stream.
  backend_.streams_to_break = 0;
  EXPECT_EQ(s->Read(h, 0, 1000).data(), data.substr(0, 1000));
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, ManySmallChunksArriveIntactAndInOrder) {
  // Thousands of stream messages: each one crosses from a gRPC thread to
  // the loop while gRPC already fills the next.
  const std::string data = Pattern(4 << 20, 11);
  backend_.PutFile("/many", data);
  auto s = Connect();
  const std::string h = s->Open("/many", kFxfRead).handle();
  constexpr uint32_t kLen = 2048;
  std::string got;
  for (uint32_t base = 0; base < data.size(); base += 64 * kLen) {
    std::string batch;
    std::vector<uint32_t> ids;
    for (uint32_t off = base; off < base + 64 * kLen && off < data.size();
         off += kLen) {
      ids.push_back(s->NextId());
      batch += PacketBuilder(kFxpRead)
                   .U32(ids.back())
                   .Str(h)
                   .U64(off)
                   .U32(kLen)
                   .Build();
    }
    s->Feed(batch);
    for (uint32_t id : ids) {
      auto r = s->Wait(id);
      ASSERT_TRUE(r.has_value());
      ASSERT_EQ(r->type, kFxpData) << r->message();
      got += r->data();
    }
  }
  EXPECT_TRUE(got == data);
  EXPECT_EQ(backend_.read_streams.load(), 2);  // OPEN's chunk, then the rest
}

// A large transfer each way, pipelined as OpenSSH does (64 requests of
// 255 KiB in flight): checks integrity and prints the rate (no assertion
// on speed; the number helps when looking at performance).
TEST_F(SessionTest, LargePipelinedTransfersBothWays) {
  const size_t kSize = 64 << 20;
  constexpr uint32_t kLen = 255 * 1024;
  constexpr size_t kWindow = 64;
  const std::string data = Pattern(kSize, 5);
  auto s = Connect();
  // Upload.
  auto start = std::chrono::steady_clock::now();
  const std::string w =
      s->Open("/large", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  std::deque<uint32_t> inflight;
  for (size_t off = 0; off < kSize || !inflight.empty();) {
    std::string batch;
    while (off < kSize && inflight.size() < kWindow) {
      inflight.push_back(s->NextId());
      batch += PacketBuilder(kFxpWrite)
                   .U32(inflight.back())
                   .Str(w)
                   .U64(off)
                   .Str(data.substr(off, kLen))
                   .Build();
      off += kLen;
    }
    if (!batch.empty()) s->Feed(batch);
    auto r = s->Wait(inflight.front());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->status(), kFxOk);
    inflight.pop_front();
  }
  ASSERT_EQ(s->Close(w).status(), kFxOk);
  const double up_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_TRUE(backend_.FileData("/large") == data);
  // Download.
  start = std::chrono::steady_clock::now();
  const std::string h = s->Open("/large", kFxfRead).handle();
  std::string got;
  got.reserve(kSize);
  size_t next = 0;
  while (got.size() < kSize) {
    std::string batch;
    while (next < kSize && inflight.size() < kWindow) {
      inflight.push_back(s->NextId());
      batch += PacketBuilder(kFxpRead)
                   .U32(inflight.back())
                   .Str(h)
                   .U64(next)
                   .U32(kLen)
                   .Build();
      next += kLen;
    }
    if (!batch.empty()) s->Feed(batch);
    auto r = s->Wait(inflight.front());
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->type, kFxpData) << r->message();
    got += r->data();
    inflight.pop_front();
  }
  const double down_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_TRUE(got == data);
  std::printf("[ rate     ] upload %.0f MiB/s, download %.0f MiB/s\n",
              kSize / up_s / (1 << 20), kSize / down_s / (1 << 20));
}

TEST_F(SessionTest, ReadAtEndGivesShortDataThenEof) {
  backend_.PutFile("/small", "0123456789");
  auto s = Connect();
  const std::string h = s->Open("/small", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 4, 100).data(), "456789");
  EXPECT_EQ(s->Read(h, 10, 100).status(), kFxEof);
  EXPECT_EQ(s->Read(h, 50, 100).status(), kFxEof);
  EXPECT_EQ(s->Read(h, 0, 3).data(), "012");
  EXPECT_EQ(s->Read(h, 0, 0).status(), kFxEof);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  // A closed handle is gone.
  Reply r = s->Read(h, 0, 3);
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "invalid handle");
}

TEST_F(SessionTest, OversizedReadIsClamped) {
  const std::string data = Pattern(600 * 1024);
  backend_.PutFile("/f", data);
  auto s = Connect();
  const std::string h = s->Open("/f", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, 1 << 20).data(), data.substr(0, 255 * 1024));
}

// What OpenSSH's sftp sends to `get` a small file: LSTAT (its glob),
// STAT, OPEN, READ, a READ for the rest after the short one, CLOSE.
TEST_F(SessionTest, SmallFileDownloadCostsFourBackendCalls) {
  const std::string data = Pattern(4096);
  backend_.PutFile("/small", data);
  auto s = Connect();
  const int unary = backend_.unary_calls.load();  // Init's Describe
  EXPECT_EQ(s->PathOp(kFxpLstat, "/small").attrs().size(), 4096u);
  EXPECT_EQ(s->PathOp(kFxpStat, "/small").attrs().size(), 4096u);
  const std::string h = s->Open("/small", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, 32768).data(), data);
  EXPECT_EQ(s->Read(h, 4096, 32768 - 4096).status(), kFxEof);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  // LSTAT's and STAT's Stats; OPEN asks nothing of its own (it answers
  // from the Read stream it starts); the READ at the end asks again, as
  // the file may have grown (hostile_corner_cases): a Stat, not a second
  // Read stream.
  EXPECT_EQ(backend_.unary_calls.load() - unary, 3);
  EXPECT_EQ(backend_.read_streams.load(), 1);
}

// The READ at the end after the file grew gets the new bytes (from a new
// stream), and one after it shrank gets EOF.
TEST_F(SessionTest, ReadAtTheEndSeesTheFileChange) {
  const std::string data = Pattern(4096);
  backend_.PutFile("/grows", data);
  auto s = Connect();
  const std::string h = s->Open("/grows", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, 32768).data(), data);
  const std::string more = Pattern(1000, 5);
  backend_.PutFile("/grows", data + more);
  EXPECT_EQ(s->Read(h, 4096, 32768).data(), more);
  EXPECT_EQ(s->Read(h, 5096, 32768).status(), kFxEof);
  EXPECT_EQ(backend_.read_streams.load(), 2);
  backend_.PutFile("/grows", "");
  EXPECT_EQ(s->Read(h, 5096, 32768).status(), kFxEof);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, OpenStreamGoesOnInChunksOfTheFirstReadsSize) {
  const std::string data = Pattern(1 << 20, 9);
  backend_.PutFile("/big", data);
  auto s = Connect();
  auto read_all = [&](const std::string& h) {
    std::string got;
    for (uint32_t off = 0; off < data.size(); off += 64 * 1024) {
      got += s->Read(h, off, 64 * 1024).data();
    }
    return got;
  };
  // OPEN starts in 32 KiB chunks; the first READ asks 64 KiB, so the rest
  // comes from a second stream in 64 KiB chunks, every byte once, in order.
  std::string h = s->Open("/big", kFxfRead).handle();
  EXPECT_TRUE(read_all(h) == data);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.read_streams.load(), 2);
  // The session now knows its client's READ size: OPEN's chunk is one
  // READ's worth, and the rest comes in one more stream.
  h = s->Open("/big", kFxfRead).handle();
  EXPECT_TRUE(read_all(h) == data);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.read_streams.load(), 4);
  // A first READ far into a file longer than the read-ahead, larger
  // still: the stream restarts there, and the bytes are those.
  const std::string longer = Pattern(8 << 20, 10);
  backend_.PutFile("/longer", longer);
  h = s->Open("/longer", kFxfRead).handle();
  const uint32_t far = 6 << 20;
  EXPECT_TRUE(s->Read(h, far, 128 * 1024).data() ==
              longer.substr(far, 128 * 1024));
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.read_streams.load(), 4 + 2);
}

TEST_F(SessionTest, BackendErrorsMapToSftpStatus) {
  backend_.PutDir("/d");
  backend_.PutFile("/d/f", "x");
  auto s = Connect();
  EXPECT_EQ(s->PathOp(kFxpStat, "/missing").status(), kFxNoSuchFile);
  EXPECT_EQ(s->PathOp(kFxpStat, "/denied/x").status(), kFxPermissionDenied);
  EXPECT_EQ(s->PathOp(kFxpStat, "/invalid").status(), kFxBadMessage);
  EXPECT_EQ(s->PathOp(kFxpRmdir, "/d").status(), kFxFailure);
  EXPECT_EQ(s->PathOp(kFxpRmdir, "/d").message(), "Directory not empty");
  EXPECT_EQ(s->PathOp(kFxpRemove, "/d").status(), kFxFailure);
  const uint32_t id = s->NextId();
  Reply mk = s->Call(PacketBuilder(kFxpMkdir).U32(id).Str("/d").Attrs({}), id);
  EXPECT_EQ(mk.status(), kFxFailure);
  EXPECT_EQ(mk.message(), "File exists");
  // OPEN checks what open(2) would refuse.
  EXPECT_EQ(s->Open("/missing", kFxfRead).status(), kFxNoSuchFile);
  EXPECT_EQ(s->Open("/d", kFxfRead).status(), kFxFailure);
  EXPECT_EQ(s->Open("/d", kFxfWrite | kFxfCreat).status(), kFxFailure);
  EXPECT_EQ(s->Open("/nodir/f", kFxfWrite | kFxfCreat).status(), kFxNoSuchFile);
  EXPECT_EQ(s->Open("/d/f/x", kFxfWrite | kFxfCreat).status(), kFxNoSuchFile);
  EXPECT_EQ(s->Open("/d/f", kFxfWrite | kFxfCreat | kFxfExcl).status(),
            kFxFailure);
  EXPECT_EQ(s->Open("/d/new", kFxfWrite).status(), kFxNoSuchFile);
  // Bogus handles.
  EXPECT_EQ(s->Read("nope", 0, 10).status(), kFxFailure);
  EXPECT_EQ(s->Close("nope").status(), kFxFailure);
  // Symlinks are not served by this backend (Describe says so).
  EXPECT_EQ(s->PathOp(kFxpReadlink, "/d/f").status(), kFxOpUnsupported);
  EXPECT_EQ(backend_.write_streams.load(), 0);
}

TEST_F(SessionTest, MalformedRequestsGetBadMessage) {
  auto s = Connect();
  const uint32_t id = s->NextId();
  // A path whose length runs past the packet.
  Reply r = s->Call(PacketBuilder(kFxpStat).U32(id).U32(1000).Raw("ab"), id);
  EXPECT_EQ(r.status(), kFxBadMessage);
  // READ missing its length field.
  const uint32_t id2 = s->NextId();
  r = s->Call(PacketBuilder(kFxpRead).U32(id2).Str("1").U64(0), id2);
  EXPECT_EQ(r.status(), kFxBadMessage);
  // A NUL in a path.
  r = s->PathOp(kFxpStat, std::string("/a\0b", 4));
  EXPECT_EQ(r.status(), kFxBadMessage);
  EXPECT_EQ(s->InFlight(), 0u);
}

TEST_F(SessionTest, PathsThatAreNotUtf8GetBadMessageWithoutABackendCall) {
  // The contract's paths are protobuf `string`s: a Latin-1 name would make
  // the backend refuse the whole message with an opaque error, and make
  // protobuf log an error per request.
  auto s = Connect();
  const int calls = backend_.unary_calls.load();
  Reply r = s->PathOp(kFxpStat, "/caf\xe9");
  EXPECT_EQ(r.status(), kFxBadMessage);
  EXPECT_EQ(r.message(), "path is not valid UTF-8");
  EXPECT_EQ(s->Open("/new\xff", kFxfWrite | kFxfCreat).status(), kFxBadMessage);
  const uint32_t id = s->NextId();
  EXPECT_EQ(
      s->Call(PacketBuilder(kFxpSymlink).U32(id).Str("t\xc0\xaf").Str("/link"),
              id)
          .status(),
      kFxBadMessage);
  EXPECT_EQ(backend_.unary_calls.load(), calls);
  EXPECT_EQ(backend_.write_streams.load(), 0);
  // Well-formed UTF-8 goes through.
  EXPECT_EQ(s->PathOp(kFxpStat, "/caf\xc3\xa9").status(), kFxNoSuchFile);
}

TEST_F(SessionTest, ReadOnlySessionRefusesChangesWithoutCallingBackend) {
  backend_.PutFile("/f", "data");
  auto s = Connect(/*read_only=*/true);
  const int calls = backend_.unary_calls.load();
  EXPECT_EQ(s->Open("/f", kFxfWrite).status(), kFxPermissionDenied);
  EXPECT_EQ(s->Open("/g", kFxfRead | kFxfCreat).status(), kFxPermissionDenied);
  EXPECT_EQ(s->PathOp(kFxpRemove, "/f").status(), kFxPermissionDenied);
  EXPECT_EQ(s->PathOp(kFxpRmdir, "/f").status(), kFxPermissionDenied);
  const uint32_t id = s->NextId();
  EXPECT_EQ(s->Call(PacketBuilder(kFxpMkdir).U32(id).Str("/x").Attrs({}), id)
                .status(),
            kFxPermissionDenied);
  const uint32_t id2 = s->NextId();
  EXPECT_EQ(s->Call(PacketBuilder(kFxpRename).U32(id2).Str("/f").Str("/g"), id2)
                .status(),
            kFxPermissionDenied);
  EXPECT_EQ(s->Extended("posix-rename@openssh.com",
                        PacketBuilder(0).Str("/f").Str("/g"))
                .status(),
            kFxPermissionDenied);
  EXPECT_EQ(backend_.unary_calls.load(), calls);
  // Reading still works.
  const std::string h = s->Open("/f", kFxfRead).handle();
  EXPECT_EQ(s->Read(h, 0, 10).data(), "data");
  EXPECT_TRUE(backend_.FileData("/f").has_value());
}

TEST_F(SessionTest, UnknownTypesAndExtensionsAreUnsupported) {
  auto s = Connect();
  const uint32_t id = s->NextId();
  EXPECT_EQ(s->Call(PacketBuilder(99).U32(id).Str("x"), id).status(),
            kFxOpUnsupported);
  const uint32_t id2 = s->NextId();
  EXPECT_EQ(s->Call(PacketBuilder(kFxpVersion).U32(id2), id2).status(),
            kFxOpUnsupported);
  EXPECT_EQ(s->Extended("nope@example.com", PacketBuilder(0)).status(),
            kFxOpUnsupported);
  // Not advertised (no StatFs in Describe): unsupported too.
  EXPECT_EQ(
      s->Extended("statvfs@openssh.com", PacketBuilder(0).Str("/")).status(),
      kFxOpUnsupported);
}

TEST_F(SessionTest, OversizedPacketClosesTheSession) {
  server::SftpLimits limits = DefaultLimits();
  limits.max_packet_length = 1024;
  auto s = Connect(false, limits);
  s->Feed(PacketBuilder(kFxpWrite)
              .U32(1)
              .Str("1")
              .U64(0)
              .Str(std::string(2000, 'x'))
              .Build());
  EXPECT_TRUE(s->sink().WaitClosed(milliseconds(5000)));
  EXPECT_FALSE(s->Wait(1, milliseconds(100)).has_value());
}

TEST_F(SessionTest, ZeroLengthPacketClosesTheSession) {
  auto s = Connect();
  s->Feed(std::string(4, '\0'));
  EXPECT_TRUE(s->sink().WaitClosed(milliseconds(5000)));
}

TEST_F(SessionTest, RequestBeforeInitClosesTheSession) {
  server::BackendChannelOptions channel;
  channel.target = server_->target();
  SessionHarness s(server::MakeBackendStub(channel), v1::Session(),
                   DefaultLimits());
  s.Feed(PacketBuilder(kFxpStat).U32(1).Str("/").Build());
  EXPECT_TRUE(s.sink().WaitClosed(milliseconds(5000)));
  EXPECT_EQ(s.sink().replies_received(), 0u);
}

TEST_F(SessionTest, DuplicateInitClosesTheSession) {
  auto s = Connect();
  s->Feed(PacketBuilder(kFxpInit).U32(3).Build());
  EXPECT_TRUE(s->sink().WaitClosed(milliseconds(5000)));
}

TEST_F(SessionTest, BackendDownFailsWithinTheDeadline) {
  // A port nothing listens on.
  FakeBackend other;
  auto dead = std::make_unique<FakeServer>(&other);
  const std::string target = dead->target();
  dead->Stop();
  // The deadline leaves room for gRPC's retries of the Stat (refused at
  // once each time) even on a loaded machine: the point is an error, not
  // a hang, and the right one.
  auto s = Connect(false, DefaultLimits(), target);
  Reply r = s->PathOp(kFxpStat, "/");
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "backend unavailable");
  EXPECT_EQ(s->Open("/f", kFxfRead).status(), kFxFailure);
  EXPECT_EQ(s->PathOp(kFxpOpendir, "/").status(), kFxFailure);
}

TEST_F(SessionTest, HungBackendTimesOutInsteadOfHanging) {
  backend_.PutFile("/f", Pattern(1000));
  server::SftpLimits limits = DefaultLimits();
  limits.call_timeout_ms = 300;
  auto s = Connect(false, limits);
  const std::string h = s->Open("/f", kFxfRead).handle();
  backend_.stall_ms = 60000;
  Reply r = s->PathOp(kFxpStat, "/f");
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "backend timed out");
  // A stream that never delivers: the watchdog fails the READ. (OPEN's
  // stream brought the whole file; seeking back starts a new one.)
  EXPECT_EQ(s->Read(h, 0, 1000).data().size(), 1000u);
  r = s->Read(h, 0, 100);
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "backend timed out");
  // ... and an OPEN for reading, which waits for its stream's first reply.
  r = s->Open("/f", kFxfRead);
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "backend timed out");
  // A listing that never starts fails OPENDIR.
  r = s->PathOp(kFxpOpendir, "/");
  EXPECT_EQ(r.status(), kFxFailure);
  backend_.stall_ms = 0;
}

// READs pipelined on a stream that never delivers all fail once it times
// out, not one call timeout after another (OpenSSH keeps 64 in flight:
// that was 64 timeouts before the client saw an error).
TEST_F(SessionTest, PipelinedReadsOnAHungStreamFailTogether) {
  constexpr uint32_t kReads = 20;
  constexpr uint32_t kLen = 32 * 1024;
  backend_.PutFile("/f", Pattern(1 << 20));
  server::SftpLimits limits = DefaultLimits();
  limits.call_timeout_ms = 300;
  auto s = Connect(false, limits);
  const std::string h = s->Open("/f", kFxfRead).handle();
  backend_.stall_ms = 60000;
  std::string batch;
  std::vector<uint32_t> ids;
  for (uint32_t i = 0; i < kReads; ++i) {
    ids.push_back(s->NextId());
    batch += PacketBuilder(kFxpRead)
                 .U32(ids.back())
                 .Str(h)
                 .U64(uint64_t{i + 1} * kLen)  // past OPEN's chunk
                 .U32(kLen)
                 .Build();
  }
  const auto start = std::chrono::steady_clock::now();
  s->Feed(batch);
  for (uint32_t id : ids) {
    std::optional<Reply> r = s->Wait(id);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->status(), kFxFailure);
    EXPECT_EQ(r->message(), "backend timed out");
  }
  // One timeout (and the watchdog's tick) for all, with room for a slow
  // machine; one per READ would be kReads * 300 ms = 6 s.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  backend_.stall_ms = 0;
}

TEST_F(SessionTest, ShutdownMidUploadAbortsIt) {
  backend_.PutFile("/keep", "old contents");
  auto s = Connect();
  const std::string h =
      s->Open("/keep", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  const std::string h2 =
      s->Open("/new", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  ASSERT_EQ(s->Write(h, 0, Pattern(100000)).status(), kFxOk);
  ASSERT_EQ(s->Write(h2, 0, Pattern(100000)).status(), kFxOk);
  // Both streams reach the backend before the client goes away.
  for (int i = 0; i < 500 && backend_.write_chunks.load() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  s->Shutdown();
  for (int i = 0; i < 500 && backend_.aborted_uploads.load() < 2; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(backend_.aborted_uploads.load(), 2);
  EXPECT_EQ(backend_.committed_uploads.load(), 0);
  EXPECT_EQ(backend_.FileData("/keep"), "old contents");
  EXPECT_FALSE(backend_.Exists("/new"));
}

TEST_F(SessionTest, UploadsFillingTheSessionBudgetNeverBlockEachOther) {
  // Six open uploads together hold more than the session's transfer
  // budget: each may still queue one message, so none waits for another
  // to close.
  server::SftpLimits limits = DefaultLimits();
  limits.max_transfer_buffer = 64 * 1024;
  auto s = Connect(false, limits);
  std::vector<std::string> handles;
  for (int i = 0; i < 6; ++i) {
    handles.push_back(
        s->Open(absl::StrCat("/held", i), kFxfWrite | kFxfCreat | kFxfTrunc)
            .handle());
    ASSERT_EQ(s->Write(handles.back(), 0, Pattern(30000, i)).status(), kFxOk)
        << i;
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(s->Write(handles[i], 30000, Pattern(30000, 10 + i)).status(),
              kFxOk)
        << i;
  }
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(s->Close(handles[i]).status(), kFxOk);
    EXPECT_EQ(backend_.FileData(absl::StrCat("/held", i)),
              Pattern(30000, i) + Pattern(30000, 10 + i));
  }
}

TEST_F(SessionTest, DirectoryListingsAreChargedToTheTransferBudget) {
  // Idle directory handles on a large directory: what their listings
  // buffer is charged to the budget, and past it a listing fetches more
  // only once its buffer is empty, so the handles cannot hold it all.
  backend_.PutDir("/big");
  const std::string prefix(150, 'n');
  for (int i = 0; i < 1000; ++i) {
    backend_.PutFile(absl::StrCat("/big/", prefix, i), "");
  }
  backend_.list_batch = 50;
  server::SftpLimits limits = DefaultLimits();
  limits.max_transfer_buffer = 64 * 1024;
  auto total = std::make_shared<server::backend::TransferBudget>(1 << 30);
  auto s = Connect(false, limits, "", total);
  std::vector<std::string> handles;
  for (int i = 0; i < 20; ++i) {
    handles.push_back(s->PathOp(kFxpOpendir, "/big").handle());
  }
  // The first batches (50 entries of ~450 bytes each) exhaust the budget.
  for (int i = 0; i < 500 && total->used() < limits.max_transfer_buffer; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(total->used(), limits.max_transfer_buffer);
  // Without the gate the 20 listings would buffer 1000 entries each (9 MB).
  EXPECT_LE(total->used(), size_t{20 * 2 * 50 * 450});
  // A listing still reads to its end while the budget stays exhausted.
  size_t names = 0;
  for (;;) {
    const uint32_t id = s->NextId();
    Reply r = s->Call(PacketBuilder(kFxpReaddir).U32(id).Str(handles[0]), id);
    if (r.type == kFxpStatus) {
      EXPECT_EQ(r.status(), kFxEof);
      break;
    }
    names += r.names().size();
  }
  EXPECT_EQ(names, 1000u);
  for (const std::string& h : handles) EXPECT_EQ(s->Close(h).status(), kFxOk);
  // Closed listings give their bytes back.
  for (int i = 0; i < 500 && total->used() > 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(total->used(), 0u);
}

TEST_F(SessionTest, SessionsShareTheProcessWideTransferBudget) {
  const std::string data = Pattern(4 << 20, 3);
  backend_.PutFile("/big", data);
  constexpr size_t kTotal = 256 * 1024;
  constexpr uint32_t kRead = 64 * 1024;
  auto total = std::make_shared<server::backend::TransferBudget>(kTotal);
  // Each session alone may hold 16 MiB; together they may hold kTotal.
  auto a = Connect(false, DefaultLimits(), "", total);
  auto b = Connect(false, DefaultLimits(), "", total);
  const std::string ha = a->Open("/big", kFxfRead).handle();
  ASSERT_EQ(a->Read(ha, 0, kRead).data(), data.substr(0, kRead));
  // A's read-ahead (4 MiB alone) fills the shared cap and stops there,
  // give or take the one message each transfer may always hold.
  for (int i = 0; i < 500 && total->used() < kTotal; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_GE(total->used(), kTotal);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_LE(total->used(), kTotal + kRead);
  // With the cap taken by A's buffer, B's transfers still go through, one
  // message at a time.
  const std::string payload = Pattern(1 << 20, 4);
  Upload(*b, "/b", payload);
  const std::string hb = b->Open("/b", kFxfRead).handle();
  std::string got;
  for (uint32_t off = 0; off < payload.size(); off += kRead) {
    got += b->Read(hb, off, kRead).data();
  }
  EXPECT_TRUE(got == payload);
  // A reads on to the end; everything is refunded once handles close.
  for (uint32_t off = kRead; off < data.size(); off += kRead) {
    ASSERT_EQ(a->Read(ha, off, kRead).data(), data.substr(off, kRead)) << off;
  }
  EXPECT_EQ(a->Close(ha).status(), kFxOk);
  EXPECT_EQ(b->Close(hb).status(), kFxOk);
  EXPECT_EQ(total->used(), 0u);
}

TEST_F(SessionTest, FailedCommitIsReportedOnClose) {
  auto s = Connect();
  const std::string h =
      s->Open("/full.bin", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h, 0, "abc").status(), kFxOk);  // write-behind
  Reply r = s->Close(h);
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_EQ(r.message(), "disk full");
  EXPECT_FALSE(backend_.Exists("/full.bin"));
}

TEST_F(SessionTest, EmptyCreateCommitsAnEmptyFile) {
  auto s = Connect();
  const std::string h =
      s->Open("/empty", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/empty"), "");
}

TEST_F(SessionTest, ReaddirListsEverythingWithLongNames) {
  backend_.PutDir("/d");
  for (int i = 0; i < 250; ++i) {
    backend_.PutFile(absl::StrCat("/d/file", 1000 + i), "abc");
  }
  backend_.list_batch = 7;
  auto s = Connect();
  const std::string h = s->PathOp(kFxpOpendir, "/d").handle();
  std::set<std::string> seen;
  int replies = 0;
  while (true) {
    Reply r = s->PathOp(kFxpReaddir, h);
    if (r.type == kFxpStatus) {
      EXPECT_EQ(r.status(), kFxEof);
      break;
    }
    ++replies;
    for (const auto& n : r.names()) {
      seen.insert(n.name);
      // Format details are covered by the codec tests (long_name.h).
      EXPECT_EQ(n.long_name.rfind("-rw-r--r--    1 alice    staff", 0), 0u)
          << n.long_name;
      EXPECT_NE(n.long_name.find(" 3 Nov 14  2023 " + n.name),
                std::string::npos)
          << n.long_name;
      EXPECT_EQ(n.attrs.size(), 3u);
    }
  }
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_GE(replies, 3);
  EXPECT_EQ(s->Close(h).status(), kFxOk);

  // A listing whose stream breaks after a batch (twice) is taken up again
  // past the entries already received: nothing missing, nothing twice.
  backend_.streams_to_break = 2;
  const int streams = backend_.list_streams.load();
  const std::string h2 = s->PathOp(kFxpOpendir, "/d").handle();
  std::multiset<std::string> again;
  for (Reply r = s->PathOp(kFxpReaddir, h2); r.type != kFxpStatus;
       r = s->PathOp(kFxpReaddir, h2)) {
    for (const auto& n : r.names()) again.insert(n.name);
  }
  EXPECT_EQ(again.size(), 250u);
  EXPECT_EQ(std::set<std::string>(again.begin(), again.end()).size(), 250u);
  EXPECT_EQ(backend_.list_streams.load() - streams, 3);
  EXPECT_EQ(s->Close(h2).status(), kFxOk);
  EXPECT_EQ(s->PathOp(kFxpOpendir, "/nope").status(), kFxNoSuchFile);
  EXPECT_EQ(s->PathOp(kFxpOpendir, "/d/file1000").status(), kFxFailure);
}

// Reads a directory handle to EOF; every name, in the order they came.
std::vector<std::string> ReadAllNames(SessionHarness& s, const std::string& h) {
  std::vector<std::string> names;
  for (Reply r = s.PathOp(kFxpReaddir, h); r.type != kFxpStatus;
       r = s.PathOp(kFxpReaddir, h)) {
    for (const auto& n : r.names()) names.push_back(n.name);
  }
  return names;
}

TEST_F(SessionTest, ListingDropsNamesNoClientMayGet) {
  backend_.PutDir("/d");
  backend_.PutFile("/d/a", "1");
  backend_.PutFile("/d/b", "2");
  for (const std::string& bad :
       {std::string(""), std::string("."), std::string(".."),
        std::string("x/y"), std::string("../../etc/passwd"),
        std::string("nul\0name", 8), std::string("/abs")}) {
    backend_.AddListedName("/d", bad);
  }
  auto s = Connect();
  const std::string h = s->PathOp(kFxpOpendir, "/d").handle();
  // Only the real entries; the front end adds no "." or ".." either.
  EXPECT_EQ(ReadAllNames(*s, h), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, ResumedListingContinuesAfterTheLastNameReceived) {
  backend_.PutDir("/d");
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    const std::string name = absl::StrFormat("f%03d", i);
    backend_.PutFile("/d/" + name, "x");
    expected.insert(name);
  }
  // The stream breaks after two batches (100 names) and waits there until
  // the directory has changed.
  backend_.list_batch = 50;
  backend_.streams_to_break = 1;
  backend_.break_after_messages = 2;
  backend_.hold_breaks = true;
  auto s = Connect();
  const std::string h = s->PathOp(kFxpOpendir, "/d").handle();
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(20000);
  while (backend_.breaks_reached.load() == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_EQ(backend_.breaks_reached.load(), 1);
  std::vector<std::string> names;
  Reply first = s->PathOp(kFxpReaddir, h);
  ASSERT_EQ(first.type, kFxpName);
  for (const auto& n : first.names()) names.push_back(n.name);
  // Between READDIRs: entries already listed go, one sorting before them
  // all comes, one not yet listed goes, one after the others comes. A
  // resume by count would now skip f100.
  backend_.Erase("/d/f010");
  backend_.Erase("/d/f020");
  backend_.PutFile("/d/a-new", "x");
  backend_.Erase("/d/f150");
  expected.erase("f150");
  backend_.PutFile("/d/g-new", "x");
  expected.insert("g-new");
  backend_.hold_breaks = false;
  for (const std::string& name : ReadAllNames(*s, h)) names.push_back(name);
  std::multiset<std::string> got(names.begin(), names.end());
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);
  EXPECT_EQ(backend_.list_streams.load(), 2);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
}

TEST_F(SessionTest, RealpathNormalizesAndUsesBackendWhenAvailable) {
  {
    auto s = Connect();
    EXPECT_EQ(s->PathOp(kFxpRealpath, ".").names()[0].name, "/");
    EXPECT_EQ(s->PathOp(kFxpRealpath, "").names()[0].name, "/");
    EXPECT_EQ(s->PathOp(kFxpRealpath, "a/../b//c/.").names()[0].name, "/b/c");
    EXPECT_EQ(s->PathOp(kFxpRealpath, "/../../x").names()[0].name, "/x");
  }
  AllCapabilities();
  backend_.PutDir("/real");
  auto s = Connect();
  const uint32_t id = s->NextId();
  ASSERT_EQ(
      s->Call(PacketBuilder(kFxpSymlink).U32(id).Str("/real").Str("/ln"), id)
          .status(),
      kFxOk);
  EXPECT_EQ(s->PathOp(kFxpRealpath, "/ln").names()[0].name, "/real");
  EXPECT_EQ(s->Extended("expand-path@openssh.com", PacketBuilder(0).Str("~/ln"))
                .names()[0]
                .name,
            "/real");
}

TEST_F(SessionTest, SymlinkTakesTargetFirstLikeOpenSsh) {
  AllCapabilities();
  auto s = Connect();
  const uint32_t id = s->NextId();
  EXPECT_EQ(
      s->Call(PacketBuilder(kFxpSymlink).U32(id).Str("../target").Str("dir/ln"),
              id)
          .status(),
      kFxOk);
  const v1::SymlinkRequest got = backend_.last_symlink();
  EXPECT_EQ(got.target(), "../target");   // verbatim
  EXPECT_EQ(got.link_path(), "/dir/ln");  // normalized
  EXPECT_EQ(s->PathOp(kFxpReadlink, "/dir/ln").names()[0].name, "../target");
}

TEST_F(SessionTest, SequentialBackendGetsReorderedWrites) {
  auto s = Connect();  // Describe: random_write false
  const std::string data = Pattern(40000);
  const std::string h =
      s->Open("/seq", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  // Out of order, within the window: held back, then sent in order.
  EXPECT_EQ(s->Write(h, 20000, data.substr(20000, 10000)).status(), kFxOk);
  EXPECT_EQ(s->Write(h, 30000, data.substr(30000)).status(), kFxOk);
  EXPECT_EQ(s->Write(h, 0, data.substr(0, 20000)).status(), kFxOk);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_TRUE(backend_.FileData("/seq") == data);

  // Behind what was already sent: fails clearly, and so does CLOSE.
  const std::string h2 =
      s->Open("/seq2", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h2, 0, "abcdef").status(), kFxOk);
  Reply r = s->Write(h2, 2, "zz");
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_NE(r.message().find("sequential"), std::string::npos);
  EXPECT_EQ(s->Close(h2).status(), kFxFailure);
  EXPECT_FALSE(backend_.Exists("/seq2"));

  // A gap never filled fails at CLOSE.
  const std::string h3 =
      s->Open("/seq3", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h3, 100, "late").status(), kFxOk);
  EXPECT_EQ(s->Close(h3).status(), kFxFailure);
  EXPECT_FALSE(backend_.Exists("/seq3"));
}

TEST_F(SessionTest, HeldBackWritesAreChargedToTheTransferBudget) {
  // Writes held back for a sequential backend count against the session's
  // transfer budget: past it the upload fails instead of growing memory.
  server::SftpLimits limits = DefaultLimits();
  limits.max_transfer_buffer = 64 * 1024;
  auto s = Connect(false, limits);
  const std::string block = Pattern(20000);
  const std::string h =
      s->Open("/held", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  for (uint64_t n = 1; n <= 3; ++n) {
    EXPECT_EQ(s->Write(h, n * 20000, block).status(), kFxOk);
  }
  Reply r = s->Write(h, 4 * 20000, block);  // 80,000 bytes held: over
  EXPECT_EQ(r.status(), kFxFailure);
  EXPECT_NE(r.message().find("transfer memory"), std::string::npos);
  EXPECT_EQ(s->Close(h).status(), kFxFailure);
  EXPECT_FALSE(backend_.Exists("/held"));
  // The failed upload gave its bytes back: another one can hold as many.
  const std::string h2 =
      s->Open("/held2", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  for (uint64_t n = 1; n <= 3; ++n) {
    EXPECT_EQ(s->Write(h2, n * 20000, block).status(), kFxOk);
  }
  EXPECT_EQ(s->Write(h2, 0, block).status(), kFxOk);
  EXPECT_EQ(s->Close(h2).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/held2"), block + block + block + block);
}

TEST_F(SessionTest, RandomWriteBackendGetsWritesAsTheyCome) {
  AllCapabilities();
  auto s = Connect();
  const std::string h =
      s->Open("/rnd", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h, 4, "efgh").status(), kFxOk);
  EXPECT_EQ(s->Write(h, 0, "abcd").status(), kFxOk);
  EXPECT_EQ(s->Write(h, 2, "XY").status(), kFxOk);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/rnd"), "abXYefgh");
}

TEST_F(SessionTest, AppendAndResumeKeepExistingContents) {
  backend_.PutFile("/log", "one;");
  auto s = Connect();
  const std::string h = s->Open("/log", kFxfWrite | kFxfAppend).handle();
  EXPECT_EQ(s->Write(h, 0, "two;").status(), kFxOk);
  EXPECT_EQ(s->Write(h, 0, "three;").status(), kFxOk);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/log"), "one;two;three;");
  // Resume (reput): write past the existing end without truncating.
  const std::string h2 = s->Open("/log", kFxfWrite).handle();
  EXPECT_EQ(s->Write(h2, 14, "four").status(), kFxOk);
  EXPECT_EQ(s->Close(h2).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/log"), "one;two;three;four");
  EXPECT_EQ(backend_.last_write_header().offset(), 14u);
}

TEST_F(SessionTest, FsyncCommitsAndTheUploadContinues) {
  auto s = Connect();
  const std::string h =
      s->Open("/sync", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h, 0, "first-").status(), kFxOk);
  EXPECT_EQ(s->Extended("fsync@openssh.com", PacketBuilder(0).Str(h)).status(),
            kFxOk);
  EXPECT_EQ(backend_.FileData("/sync"), "first-");
  EXPECT_EQ(s->Write(h, 6, "second").status(), kFxOk);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/sync"), "first-second");
  EXPECT_EQ(backend_.committed_uploads.load(), 2);
}

TEST_F(SessionTest, FsetstatDuringUploadLandsOnTheCommittedFile) {
  auto s = Connect();
  const std::string h =
      s->Open("/t", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Write(h, 0, "x").status(), kFxOk);
  v1::Attributes a;
  a.set_atime(1234567890);
  a.set_mtime(1234567890);
  a.set_mode(0600);
  const uint32_t id = s->NextId();
  EXPECT_EQ(
      s->Call(PacketBuilder(kFxpFsetstat).U32(id).Str(h).Attrs(a), id).status(),
      kFxOk);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  auto attrs = backend_.Attrs("/t");
  ASSERT_TRUE(attrs.has_value());
  EXPECT_EQ(attrs->mtime(), 1234567890);
  EXPECT_EQ(attrs->mode() & 07777, 0600u);
}

// ftruncate on the handle, pipelined between WRITEs: the size changes
// between them (the later WRITE continues the resized file), not at CLOSE.
TEST_F(SessionTest, FsetstatSizeTakesEffectBetweenTheWrites) {
  backend_.PutFile("/ft", "0123456789");
  auto s = Connect();
  const std::string h = s->Open("/ft", kFxfRead | kFxfWrite).handle();
  EXPECT_EQ(s->Write(h, 0, "ab").status(), kFxOk);
  v1::Attributes size;
  size.set_size(3);
  const uint32_t resize = s->NextId();
  const uint32_t write = s->NextId();
  const uint32_t fstat = s->NextId();
  s->Feed(PacketBuilder(kFxpFsetstat).U32(resize).Str(h).Attrs(size).Build() +
          PacketBuilder(kFxpWrite).U32(write).Str(h).U64(5).Str("W").Build() +
          PacketBuilder(kFxpFstat).U32(fstat).Str(h).Build());
  for (uint32_t id : {resize, write}) {
    std::optional<Reply> reply = s->Wait(id);
    ASSERT_TRUE(reply.has_value()) << id;
    EXPECT_EQ(reply->status(), kFxOk) << id;
  }
  std::optional<Reply> attrs = s->Wait(fstat);
  ASSERT_TRUE(attrs.has_value());
  EXPECT_EQ(attrs->type, kFxpAttrs);
  EXPECT_EQ(attrs->attrs().size(), 6u);  // the handle sees its own WRITE
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/ft"), std::string("ab2\0\0W", 6));
}

TEST_F(SessionTest, FsetstatSizeOnAReadingHandleIsRefused) {
  backend_.PutFile("/ro", "0123456789");
  auto s = Connect();
  const std::string h = s->Open("/ro", kFxfRead).handle();
  v1::Attributes size;
  size.set_size(3);
  const uint32_t id = s->NextId();
  EXPECT_EQ(s->Call(PacketBuilder(kFxpFsetstat).U32(id).Str(h).Attrs(size), id)
                .status(),
            kFxPermissionDenied);
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_EQ(backend_.FileData("/ro"), "0123456789");
}

TEST_F(SessionTest, CopyDataCopiesBetweenHandles) {
  const std::string data = Pattern(700 * 1024, 3);
  backend_.PutFile("/src", data);
  auto s = Connect();
  const std::string from = s->Open("/src", kFxfRead).handle();
  const std::string to =
      s->Open("/dst", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(s->Extended("copy-data",
                        PacketBuilder(0).Str(from).U64(0).U64(0).Str(to).U64(0))
                .status(),
            kFxOk);
  EXPECT_EQ(s->Close(to).status(), kFxOk);
  EXPECT_TRUE(backend_.FileData("/dst") == data);
  // A length past EOF answers EOF after copying what exists.
  const std::string to2 =
      s->Open("/dst2", kFxfWrite | kFxfCreat | kFxfTrunc).handle();
  EXPECT_EQ(
      s->Extended(
           "copy-data",
           PacketBuilder(0).Str(from).U64(100).U64(data.size()).Str(to2).U64(0))
          .status(),
      kFxEof);
  EXPECT_EQ(s->Close(to2).status(), kFxOk);
  EXPECT_TRUE(backend_.FileData("/dst2") == data.substr(100));
  // Same handle on both sides is refused.
  EXPECT_EQ(
      s->Extended("copy-data",
                  PacketBuilder(0).Str(from).U64(0).U64(0).Str(from).U64(0))
          .status(),
      kFxFailure);
}

TEST_F(SessionTest, LimitsStatvfsHardlinkAndHomeDirectory) {
  AllCapabilities();
  backend_.PutFile("/a", "data");
  auto s = Connect();
  Reply limits = s->Extended("limits@openssh.com", PacketBuilder(0));
  ASSERT_EQ(limits.type, kFxpExtendedReply);
  PacketReader in(limits.body);
  uint64_t packet, read, write, handles;
  ASSERT_TRUE(in.ReadU64(&packet) && in.ReadU64(&read) && in.ReadU64(&write) &&
              in.ReadU64(&handles));
  EXPECT_EQ(packet, 256u * 1024 + 1024);
  EXPECT_EQ(read, 255u * 1024);
  EXPECT_EQ(write, 255u * 1024);
  EXPECT_EQ(handles, 256u);

  Reply vfs = s->Extended("statvfs@openssh.com", PacketBuilder(0).Str("/"));
  ASSERT_EQ(vfs.type, kFxpExtendedReply);
  PacketReader v(vfs.body);
  uint64_t f[11];
  for (uint64_t& x : f) ASSERT_TRUE(v.ReadU64(&x));
  EXPECT_EQ(f[0], 4096u);
  EXPECT_EQ(f[4], 500u);
  EXPECT_EQ(f[9], 2u);  // nosuid
  EXPECT_EQ(f[10], 255u);

  EXPECT_EQ(
      s->Extended("hardlink@openssh.com", PacketBuilder(0).Str("/a").Str("/b"))
          .status(),
      kFxOk);
  EXPECT_EQ(backend_.FileData("/b"), "data");

  EXPECT_EQ(
      s->Extended("home-directory", PacketBuilder(0).Str("")).names()[0].name,
      "/");
  EXPECT_EQ(s->Extended("home-directory", PacketBuilder(0).Str("alice"))
                .names()[0]
                .name,
            "/");
  EXPECT_EQ(s->Extended("home-directory", PacketBuilder(0).Str("bob")).status(),
            kFxFailure);
  EXPECT_EQ(s->Extended("expand-path@openssh.com", PacketBuilder(0).Str("~"))
                .names()[0]
                .name,
            "/");
  EXPECT_EQ(
      s->Extended("expand-path@openssh.com", PacketBuilder(0).Str("~bob/x"))
          .status(),
      kFxNoSuchFile);
}

TEST_F(SessionTest, InFlightCapPausesInputAndResumes) {
  server::SftpLimits limits = DefaultLimits();
  limits.max_in_flight = 2;
  auto s = Connect(false, limits);
  backend_.stall_ms = 100;
  std::string batch;
  for (uint32_t id = 100; id < 110; ++id) {
    batch += PacketBuilder(kFxpStat).U32(id).Str("/").Build();
  }
  s->Feed(batch);
  EXPECT_GT(s->pending_input(), 0u);  // the rest waits in the "channel"
  EXPECT_LE(s->InFlight(), 2u);
  for (uint32_t id = 100; id < 110; ++id) {
    auto r = s->Wait(id);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->type, kFxpAttrs);
  }
  EXPECT_GT(s->resumes(), 0);
  EXPECT_EQ(s->pending_input(), 0u);
  backend_.stall_ms = 0;
}

TEST_F(SessionTest, FullOutputQueuePausesInputUntilItDrains) {
  auto s = Connect();
  s->sink().queued = 100 << 20;
  s->Feed(PacketBuilder(kFxpStat).U32(7).Str("/").Build());
  EXPECT_GT(s->pending_input(), 0u);
  EXPECT_FALSE(s->Wait(7, milliseconds(100)).has_value());
  s->sink().queued = 0;
  s->OutputDrained();
  auto r = s->Wait(7);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, kFxpAttrs);
}

TEST_F(SessionTest, PromisedReadRepliesCountAgainstTheOutputLimit) {
  // READ replies count at their full size from the moment the request is
  // taken: the session pauses before it could queue more than the limit,
  // even while none of them has been answered yet.
  backend_.PutFile("/f", Pattern(8 * 255 * 1024));
  server::SftpLimits limits = DefaultLimits();
  limits.max_queued_output = 300 * 1024;
  auto s = Connect(false, limits);
  const std::string h = s->Open("/f", kFxfRead).handle();
  backend_.stall_ms = 100;
  std::string batch;
  for (uint32_t id = 100; id < 108; ++id) {
    batch += PacketBuilder(kFxpRead)
                 .U32(id)
                 .Str(h)
                 .U64(uint64_t{id - 100} * 255 * 1024)
                 .U32(255 * 1024)
                 .Build();
  }
  s->Feed(batch);
  // 255 KiB taken, then 510 KiB promised: over 300 KiB.
  EXPECT_EQ(s->InFlight(), 2u);
  EXPECT_GT(s->pending_input(), 0u);
  for (uint32_t id = 100; id < 108; ++id) {
    auto r = s->Wait(id);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->type, kFxpData);
  }
  backend_.stall_ms = 0;
}

TEST_F(SessionTest, CloseWaitsForPipelinedReadsOnTheHandle) {
  const std::string data = Pattern(200000);
  backend_.PutFile("/f", data);
  backend_.read_chunk_delay_ms = 20;
  auto s = Connect();
  const std::string h = s->Open("/f", kFxfRead).handle();
  std::string batch;
  for (uint32_t i = 0; i < 4; ++i) {
    batch += PacketBuilder(kFxpRead)
                 .U32(200 + i)
                 .Str(h)
                 .U64(i * 50000)
                 .U32(50000)
                 .Build();
  }
  batch += PacketBuilder(kFxpClose).U32(300).Str(h).Build();
  s->Feed(batch);
  auto closed = s->Wait(300);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->status(), kFxOk);
  for (uint32_t i = 0; i < 4; ++i) {
    // Already answered when CLOSE was.
    auto r = s->Wait(200 + i, milliseconds(0));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->data(), data.substr(i * 50000, 50000));
  }
  backend_.read_chunk_delay_ms = 0;
}

// The value of one series ("name{labels}") in the global registry's
// Prometheus text; 0 when absent (not yet created).
double MetricValue(const std::string& series) {
  const std::string text = server::Metrics::Global().RenderPrometheus();
  const std::string prefix = series + " ";
  size_t at = text.rfind("\n" + prefix);
  if (at == std::string::npos) {
    if (text.compare(0, prefix.size(), prefix) != 0) return 0;
    at = 0;
  } else {
    at += 1;
  }
  return std::stod(text.substr(at + prefix.size()));
}

TEST_F(SessionTest, MetricsCountOperationsBytesAndBackendCalls) {
  const std::string open_ok =
      R"(sftpgate_operations_total{op="OPEN",status="ok"})";
  const std::string stat_missing =
      R"(sftpgate_operations_total{op="STAT",status="no_such_file"})";
  const std::string unknown =
      R"(sftpgate_operations_total{op="UNKNOWN",status="op_unsupported"})";
  const std::string read_bytes = R"(sftpgate_bytes_total{direction="read"})";
  const std::string write_bytes = R"(sftpgate_bytes_total{direction="write"})";
  const std::string stat_calls =
      R"(sftpgate_backend_call_seconds_count{method="Stat"})";
  const std::string write_calls =
      R"(sftpgate_backend_call_seconds_count{method="Write"})";
  const std::string read_calls =
      R"(sftpgate_backend_call_seconds_count{method="Read"})";
  const std::string in_flight = "sftpgate_requests_in_flight";
  std::map<std::string, double> before;
  for (const std::string& m :
       {open_ok, stat_missing, unknown, read_bytes, write_bytes, stat_calls,
        write_calls, read_calls}) {
    before[m] = MetricValue(m);
  }
  const double in_flight_before = MetricValue(in_flight);
  {
    auto s = Connect();
    const std::string data = Pattern(100000);
    Upload(*s, "/m.bin", data);  // OPEN, 4 WRITEs, CLOSE
    const std::string h = s->Open("/m.bin", kFxfRead).handle();
    EXPECT_EQ(s->Read(h, 0, 60000).data().size(), 60000u);
    EXPECT_EQ(s->Close(h).status(), kFxOk);
    EXPECT_EQ(s->PathOp(kFxpStat, "/missing").status(), kFxNoSuchFile);
    const uint32_t id = s->NextId();
    EXPECT_EQ(s->Call(PacketBuilder(99).U32(id), id).status(),
              kFxOpUnsupported);
    EXPECT_EQ(MetricValue(in_flight), in_flight_before);
    // A request left unanswered when the session ends leaves the gauge.
    backend_.stall_ms = 2000;
    s->Feed(PacketBuilder(kFxpStat).U32(s->NextId()).Str("/").Build());
    EXPECT_EQ(MetricValue(in_flight), in_flight_before + 1);
    s->Shutdown();
    EXPECT_EQ(MetricValue(in_flight), in_flight_before);
  }
  backend_.stall_ms = 0;
  EXPECT_EQ(MetricValue(open_ok) - before[open_ok], 2);
  EXPECT_EQ(MetricValue(stat_missing) - before[stat_missing], 1);
  EXPECT_EQ(MetricValue(unknown) - before[unknown], 1);
  EXPECT_EQ(MetricValue(write_bytes) - before[write_bytes], 100000);
  EXPECT_EQ(MetricValue(read_bytes) - before[read_bytes], 60000);
  // The upload OPEN's two checks (file, parent), STAT /missing (the read
  // OPEN asks none: it starts the Read stream).
  EXPECT_GE(MetricValue(stat_calls) - before[stat_calls], 3);
  EXPECT_EQ(MetricValue(write_calls) - before[write_calls], 1);
  // Two Read streams: OPEN's, in 32 KiB chunks, cancelled when the
  // 60000-byte READ came and the rest of the file was asked in chunks of
  // that size; that one cancelled at CLOSE. An end is recorded once gRPC
  // reports it.
  for (int i = 0; i < 100 && MetricValue(read_calls) < before[read_calls] + 2;
       ++i) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(MetricValue(read_calls) - before[read_calls], 2);
}

TEST_F(SessionTest, OpenSkipsTheParentCheckInADirectorySeenJustNow) {
  auto s = Connect();
  const uint32_t id = s->NextId();
  ASSERT_EQ(s->Call(PacketBuilder(kFxpMkdir).U32(id).Str("/up").Attrs({}), id)
                .status(),
            kFxOk);
  int before = backend_.unary_calls.load();
  const uint32_t create = kFxfWrite | kFxfCreat | kFxfTrunc;
  const std::string h = s->Open("/up/a", create).handle();
  EXPECT_EQ(backend_.unary_calls.load() - before, 0) << "asks nothing";
  EXPECT_EQ(s->Close(h).status(), kFxOk);
  EXPECT_TRUE(backend_.Exists("/up/a"));
  // Without TRUNC the file's Stat decides (it may exist).
  before = backend_.unary_calls.load();
  const std::string h1 = s->Open("/up/a", kFxfWrite | kFxfCreat).handle();
  EXPECT_EQ(backend_.unary_calls.load() - before, 1) << "only the file's Stat";
  EXPECT_EQ(s->Close(h1).status(), kFxOk);
  // Once the window (1 s) has passed, OPEN checks as in a directory it
  // never saw: the file and its parent.
  s->AdvanceClock(std::chrono::milliseconds(1001));
  before = backend_.unary_calls.load();
  const std::string h_late = s->Open("/up/late", create).handle();
  EXPECT_EQ(backend_.unary_calls.load() - before, 2) << "file and parent";
  EXPECT_EQ(s->Close(h_late).status(), kFxOk);
  // A directory in the file's place fails the upload at CLOSE.
  backend_.PutDir("/up/sub");
  const std::string hd = s->Open("/up/sub", create).handle();
  EXPECT_EQ(s->Close(hd).status(), kFxFailure);
  // After this session removes anything it asks again, and a parent that
  // is gone is reported by OPEN.
  EXPECT_EQ(s->PathOp(kFxpRemove, "/up/a").status(), kFxOk);
  EXPECT_EQ(s->PathOp(kFxpRemove, "/up/late").status(), kFxOk);
  EXPECT_EQ(s->PathOp(kFxpRmdir, "/up/sub").status(), kFxOk);
  EXPECT_EQ(s->PathOp(kFxpRmdir, "/up").status(), kFxOk);
  EXPECT_EQ(s->Open("/up/b", create).status(), kFxNoSuchFile);
  // A directory removed behind the session's back (another session)
  // while remembered: the upload fails at CLOSE; nothing is committed.
  backend_.PutDir("/d2");
  EXPECT_EQ(s->PathOp(kFxpStat, "/d2").type, kFxpAttrs);
  backend_.Erase("/d2");
  const std::string h2 = s->Open("/d2/c", create).handle();
  // Write-behind: OK, or the error if the stream failed already.
  const uint32_t written = s->Write(h2, 0, "data").status();
  EXPECT_TRUE(written == kFxOk || written == kFxNoSuchFile) << written;
  EXPECT_EQ(s->Close(h2).status(), kFxNoSuchFile);
  EXPECT_FALSE(backend_.Exists("/d2/c"));
}

}  // namespace
}  // namespace sftpgate::testing
