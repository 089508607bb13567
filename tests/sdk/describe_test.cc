// Describe reports exactly the optional methods a backend overrides, plus
// random-write support and the host's sizes; optional methods that are not
// overridden answer UNIMPLEMENTED over the wire.

#include "gtest/gtest.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

class SymlinkBackend : public RecordingBackend {
 public:
  absl::Status Symlink(const Session& session, absl::string_view link_path,
                       absl::string_view) override {
    return Note(session, "Symlink", link_path);
  }
  absl::StatusOr<std::string> ReadLink(const Session&,
                                       absl::string_view) override {
    return std::string("target");
  }
};

class StatFsBackend : public RecordingBackend {
 public:
  StatFsBackend() : RecordingBackend(RandomWrites()) {}
  static Options RandomWrites() {
    Options options;
    options.random_writes = true;
    return options;
  }
  absl::StatusOr<StatFsInfo> StatFs(const Session&,
                                    absl::string_view) override {
    StatFsInfo info;
    info.set_block_size(4096);
    return info;
  }
};

class EverythingBackend : public SymlinkBackend {
 public:
  absl::Status Link(const Session&, absl::string_view,
                    absl::string_view) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> RealPath(const Session&,
                                       absl::string_view path) override {
    return std::string(path);
  }
  absl::StatusOr<StatFsInfo> StatFs(const Session&,
                                    absl::string_view) override {
    return StatFsInfo();
  }
  absl::Status SetStatNoFollow(const Session&, absl::string_view,
                               const Attributes&) override {
    return absl::OkStatus();
  }
};

template <typename B>
v1::DescribeResponse DescribeOf(B* backend, ServeOptions options = {}) {
  auto served = ServedBackend::Start(backend, options);
  EXPECT_TRUE(served.ok()) << served.status();
  if (!served.ok()) return {};
  absl::StatusOr<v1::DescribeResponse> described =
      (*served)->client().Describe();
  EXPECT_TRUE(described.ok()) << described.status();
  return described.ok() ? *described : v1::DescribeResponse();
}

TEST(DescribeTest, PlainBackendServesNoOptionalOperation) {
  RecordingBackend backend;
  v1::DescribeResponse d = DescribeOf(&backend);
  EXPECT_EQ(d.name(), "recording 1.0");
  EXPECT_FALSE(d.symlinks());
  EXPECT_FALSE(d.hard_links());
  EXPECT_FALSE(d.stat_fs());
  EXPECT_FALSE(d.real_path());
  EXPECT_FALSE(d.set_stat_no_follow());
  EXPECT_FALSE(d.random_write());
}

TEST(DescribeTest, ReportsExactlyTheOverriddenOnes) {
  SymlinkBackend symlinks;
  v1::DescribeResponse d = DescribeOf(&symlinks);
  EXPECT_TRUE(d.symlinks());
  EXPECT_FALSE(d.hard_links());
  EXPECT_FALSE(d.stat_fs());
  EXPECT_FALSE(d.real_path());
  EXPECT_FALSE(d.set_stat_no_follow());

  StatFsBackend statfs;
  d = DescribeOf(&statfs);
  EXPECT_FALSE(d.symlinks());
  EXPECT_TRUE(d.stat_fs());
  EXPECT_FALSE(d.hard_links());
  EXPECT_TRUE(d.random_write());

  EverythingBackend all;
  d = DescribeOf(&all);
  EXPECT_TRUE(d.symlinks());
  EXPECT_TRUE(d.hard_links());
  EXPECT_TRUE(d.stat_fs());
  EXPECT_TRUE(d.real_path());
  EXPECT_TRUE(d.set_stat_no_follow());
}

TEST(DescribeTest, ReportsHostSizes) {
  RecordingBackend backend;
  ServeOptions options;
  options.preferred_chunk_size = 4096;
  options.max_chunk_size = 65536;
  options.list_batch_size = 17;
  v1::DescribeResponse d = DescribeOf(&backend, options);
  EXPECT_EQ(d.preferred_chunk_size(), 4096u);
  EXPECT_EQ(d.max_chunk_size(), 65536u);
  EXPECT_EQ(d.max_list_batch(), 17u);
}

TEST(DescribeTest, MissingOptionalOperationsAreUnimplemented) {
  SymlinkBackend backend;
  auto served = ServedBackend::Start(&backend);
  ASSERT_TRUE(served.ok()) << served.status();
  TestClient& client = (*served)->client();
  EXPECT_TRUE(client.Symlink("/l", "t").ok());
  EXPECT_EQ(*client.ReadLink("/l"), "target");
  EXPECT_EQ(client.Link("/a", "/b").code(), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(client.RealPath("/a").status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(client.StatFs("/").status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(
      client.SetStat("/a", Attributes(), /*follow_symlinks=*/false).code(),
      absl::StatusCode::kUnimplemented);
  // SetStat that follows goes to the mandatory method.
  EXPECT_TRUE(client.SetStat("/a", Attributes(), true).ok());
}

}  // namespace
}  // namespace sftpgate::testing
