// A 256 MiB file written and read back through gRPC by the real
// sftpgate-localfs-backend program, checked by checksum, while the
// backend's resident memory stays bounded (it streams; it never holds a
// file). The test generates and checks the data on the fly, so its own
// memory stays bounded too.

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"
#include "tests/sdk/testing/backend_process.h"
#include "tests/sdk/testing/local_server.h"

namespace sftpgate::localfs::testing {
namespace {

constexpr uint64_t kFileSize = 256ull << 20;
constexpr size_t kChunk = 1 << 20;
// Stated bound on the backend's peak resident set while it moves 256 MiB.
constexpr int64_t kBackendMemoryLimitKiB = 64 * 1024;
// And on this test process (gRPC client, one chunk at a time).
constexpr int64_t kTestMemoryLimitKiB = 160 * 1024;

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The file's bytes at [offset, offset + n), offset and n multiples of 8.
void Generate(uint64_t offset, size_t n, std::string* out) {
  out->resize(n);
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t word = SplitMix64((offset + i) / 8);
    std::memcpy(out->data() + i, &word, 8);
  }
}

// Order-sensitive 64-bit checksum of a byte stream fed in pieces.
class Checksum {
 public:
  void Add(absl::string_view data) {
    for (unsigned char c : data) {
      h_ = (h_ ^ c) * 0x100000001b3ull;  // FNV-1a
    }
    size_ += data.size();
  }
  uint64_t value() const { return h_; }
  uint64_t size() const { return size_; }

 private:
  uint64_t h_ = 0xcbf29ce484222325ull;
  uint64_t size_ = 0;
};

// A "VmRSS:" / "VmHWM:" figure of /proc/<pid>/status, KiB (-1 if absent).
int64_t ProcStatusKiB(pid_t pid, absl::string_view field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, field)) {
      std::vector<absl::string_view> parts =
          absl::StrSplit(line, ' ', absl::SkipWhitespace());
      int64_t kib;
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
    }
  }
  return -1;
}

TEST(LocalFsLargeFileTest, Streams256MiBWithBoundedBackendMemory) {
  TempDir dir;
  auto backend = sftpgate::testing::BackendProcess::Start(
      LOCALFS_BACKEND_PATH, {"--root", dir.path()});
  ASSERT_TRUE(backend.ok()) << backend.status();
  const pid_t pid = (*backend)->pid();
  const int64_t start_rss = ProcStatusKiB(pid, "VmRSS:");

  std::atomic<bool> done{false};
  std::atomic<int64_t> max_rss{0};
  std::thread sampler([&] {
    while (!done) {
      int64_t rss = ProcStatusKiB(pid, "VmRSS:");
      if (rss > max_rss) max_rss = rss;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });

  TestClient client(
      sftpgate::testing::MakeChannel((*backend)->target(), 4 * kChunk),
      SessionBuilder().Root("/big").Build(), absl::Minutes(10));

  // Upload.
  Checksum sent;
  {
    auto stream = client.OpenWrite(MakeWriteHeader("/file.bin"));
    std::string chunk;
    for (uint64_t off = 0; off < kFileSize; off += kChunk) {
      Generate(off, kChunk, &chunk);
      sent.Add(chunk);
      ASSERT_TRUE(stream->Send(off, chunk)) << "stream broke at " << off;
    }
    auto size = stream->Finish();
    ASSERT_TRUE(size.ok()) << size.status();
    EXPECT_EQ(*size, kFileSize);
  }

  // Download, streamed, checking every chunk against the generator.
  Checksum received;
  {
    grpc::ClientContext context;
    client.SetDeadline(&context);
    v1::ReadRequest request;
    *request.mutable_session() = client.session();
    request.set_path("/file.bin");
    request.set_chunk_size(kChunk);
    auto reader = client.stub()->Read(&context, request);
    v1::ReadChunk chunk;
    std::string expected;
    uint64_t mismatches = 0;
    while (reader->Read(&chunk)) {
      ASSERT_EQ(chunk.offset(), received.size());
      ASSERT_EQ(chunk.data().size() % 8, 0u);
      Generate(chunk.offset(), chunk.data().size(), &expected);
      if (chunk.data() != expected) ++mismatches;
      received.Add(chunk.data());
    }
    ASSERT_TRUE(reader->Finish().ok());
    EXPECT_EQ(mismatches, 0u);
  }
  done = true;
  sampler.join();
  const int64_t peak = ProcStatusKiB(pid, "VmHWM:");

  EXPECT_EQ(received.size(), kFileSize);
  EXPECT_EQ(received.value(), sent.value());
  // And the bytes on disk are the same.
  Checksum on_disk;
  {
    std::ifstream in(dir.Sub("big/file.bin"), std::ios::binary);
    std::string buf(kChunk, '\0');
    while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
      on_disk.Add(absl::string_view(buf.data(), in.gcount()));
    }
  }
  EXPECT_EQ(on_disk.size(), kFileSize);
  EXPECT_EQ(on_disk.value(), sent.value());

  RecordProperty("backend_start_rss_kib", static_cast<int>(start_rss));
  RecordProperty("backend_max_rss_kib", static_cast<int>(max_rss));
  RecordProperty("backend_vmhwm_kib", static_cast<int>(peak));
  std::printf(
      "backend RSS: start %lld KiB, max sampled %lld KiB, VmHWM %lld "
      "KiB (limit %lld KiB)\n",
      static_cast<long long>(start_rss), static_cast<long long>(max_rss.load()),
      static_cast<long long>(peak),
      static_cast<long long>(kBackendMemoryLimitKiB));
  ASSERT_GT(peak, 0);
  EXPECT_LT(peak, kBackendMemoryLimitKiB);
  EXPECT_LT(max_rss, kBackendMemoryLimitKiB);
  const int64_t self_peak = ProcStatusKiB(::getpid(), "VmHWM:");
  std::printf("test process VmHWM %lld KiB (limit %lld KiB)\n",
              static_cast<long long>(self_peak),
              static_cast<long long>(kTestMemoryLimitKiB));
  EXPECT_LT(self_peak, kTestMemoryLimitKiB);

  int status = (*backend)->Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace sftpgate::localfs::testing
