// The host refuses requests whose session or paths are malformed before
// the backend sees them (defence in depth: paths must arrive normalized).

#include <string>

#include "gtest/gtest.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

class RequestValidationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto served = ServedBackend::Start(&backend_);
    ASSERT_TRUE(served.ok()) << served.status();
    served_ = *std::move(served);
  }
  TestClient& client() { return served_->client(); }

  RecordingBackend backend_;
  std::unique_ptr<ServedBackend> served_;
};

const std::string kBadPaths[] = {
    "",   "a",    "a/b", "/a/",     "//a",   "/a//b",
    "/.", "/a/.", "/..", "/a/../b", "/a/..", std::string("/a\0b", 4)};

TEST_F(RequestValidationTest, NonNormalizedPathsNeverReachTheBackend) {
  for (const std::string& bad : kBadPaths) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(client().Stat(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().Remove(bad).code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().Rename("/ok", bad).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().Rename(bad, "/ok").code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().ListDir(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().ReadFile(bad).status().code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(client().WriteFile(bad, "x").status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(backend_.record().calls.empty());
  EXPECT_TRUE(backend_.record().uploads.empty());
}

TEST_F(RequestValidationTest, NormalizedPathsPass) {
  EXPECT_TRUE(client().Stat("/").ok());
  EXPECT_TRUE(client().Stat("/a/b c/...").ok());
  EXPECT_TRUE(client().Rename("/a", "/b").ok());
  auto calls = backend_.record().calls;
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], "Stat /");
  EXPECT_EQ(calls[1], "Stat /a/b c/...");
  EXPECT_EQ(calls[2], "Rename /a /b");
}

TEST_F(RequestValidationTest, SymlinkTargetIsVerbatimButNotEmptyOrNul) {
  // RecordingBackend does not serve Symlink, so a valid request reaches
  // the default (UNIMPLEMENTED); invalid ones stop at the host.
  EXPECT_EQ(client().Symlink("/l", "../x//y/").code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(client().Symlink("/l", "").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().Symlink("/l", std::string("a\0b", 3)).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RequestValidationTest, SessionIsRequiredAndRootChecked) {
  // No session at all.
  grpc::ClientContext context;
  client().SetDeadline(&context);
  v1::StatRequest request;
  request.set_path("/a");
  v1::StatResponse response;
  grpc::Status status = client().stub()->Stat(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A root that is not normalized.
  for (const char* root : {"relative", "/a/", "/a/../b"}) {
    TestClient bad = served_->ClientFor(SessionBuilder().Root(root).Build());
    EXPECT_EQ(bad.Stat("/x").status().code(),
              absl::StatusCode::kInvalidArgument)
        << root;
  }
  EXPECT_TRUE(backend_.record().calls.empty());

  // An empty root reads as "/"; others pass through unchanged.
  EXPECT_TRUE(
      served_->ClientFor(SessionBuilder().Root("").Build()).Stat("/x").ok());
  EXPECT_TRUE(served_->ClientFor(SessionBuilder().Root("/home/u").Build())
                  .Stat("/x")
                  .ok());
  auto roots = backend_.record().roots;
  ASSERT_EQ(roots.size(), 2u);
  EXPECT_EQ(roots[0], "/");
  EXPECT_EQ(roots[1], "/home/u");
}

TEST_F(RequestValidationTest, DescribeNeedsNoSession) {
  grpc::ClientContext context;
  client().SetDeadline(&context);
  v1::DescribeResponse response;
  grpc::Status status =
      client().stub()->Describe(&context, v1::DescribeRequest(), &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.name(), "recording 1.0");
}

}  // namespace
}  // namespace sftpgate::testing
