// Fixture for memory backend tests: a MemoryBackend served in-process on a
// free port, reached through a real gRPC channel.

#ifndef SFTPGATE_TESTS_MEMORY_MEMORY_FIXTURE_H_
#define SFTPGATE_TESTS_MEMORY_MEMORY_FIXTURE_H_

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "memory_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {

class MemoryTest : public ::testing::Test {
 protected:
  static constexpr uint32_t kUid = 1234;
  static constexpr uint32_t kGid = 5678;

  void SetUp() override { Start(); }

  // (Re)starts with `options` (uid/gid default to kUid/kGid).
  void Start(memory::MemoryBackendOptions options = Defaults(),
             ServeOptions serve = {}) {
    served_.reset();
    backend_ = std::make_unique<memory::MemoryBackend>(options);
    auto served = ServedBackend::Start(backend_.get(), serve);
    ASSERT_TRUE(served.ok()) << served.status();
    served_ = *std::move(served);
  }

  static memory::MemoryBackendOptions Defaults() {
    memory::MemoryBackendOptions options;
    options.uid = kUid;
    options.gid = kGid;
    return options;
  }

  TestClient& client() { return served_->client(); }
  TestClient ClientFor(Session session) { return served_->ClientFor(session); }

  // Writes `data` to `path` (create + truncate) and expects success.
  void Put(const std::string& path, const std::string& data) {
    absl::StatusOr<uint64_t> size = client().WriteFile(path, data);
    ASSERT_TRUE(size.ok()) << path << ": " << size.status();
    ASSERT_EQ(*size, data.size());
  }
  // The whole content of `path`, or the error text.
  std::string Get(const std::string& path) {
    absl::StatusOr<std::string> data = client().ReadFile(path);
    return data.ok() ? *data : "<" + data.status().ToString() + ">";
  }

  std::unique_ptr<memory::MemoryBackend> backend_;
  std::unique_ptr<ServedBackend> served_;
};

// `n` bytes of a pattern that does not repeat with any power-of-two period
// below 251, so misplaced blocks show.
inline std::string Pattern(size_t n, int seed = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<char>((i * 7 + seed) % 251);
  }
  return s;
}

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_MEMORY_MEMORY_FIXTURE_H_
