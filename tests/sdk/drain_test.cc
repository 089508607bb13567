// BackendServer::Drain: calls in flight finish within the grace period;
// what is still running after it is cancelled (uploads abort).

#include <future>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

TEST(DrainTest, CallInFlightFinishesWithinGrace) {
  RecordingBackend::Options options;
  options.stat_delay = absl::Milliseconds(300);
  RecordingBackend backend(options);
  auto served = ServedBackend::Start(&backend, ServeOptions());
  ASSERT_TRUE(served.ok()) << served.status();
  auto stat = std::async(std::launch::async,
                         [&] { return (*served)->client().Stat("/f", true); });
  // Drain once the Stat is in the backend (it then sleeps stat_delay).
  ASSERT_TRUE(backend.Await(
      [](const RecordingBackend::Record& r) { return !r.calls.empty(); }));
  (*served)->server().Drain(5000);
  EXPECT_TRUE(stat.get().ok());
}

TEST(DrainTest, UploadStillRunningAfterGraceAborts) {
  RecordingBackend backend(RecordingBackend::Options{});
  auto served = ServedBackend::Start(&backend, ServeOptions());
  ASSERT_TRUE(served.ok()) << served.status();
  auto stream = (*served)->client().OpenWrite(MakeWriteHeader("/f"));
  ASSERT_TRUE(stream->Send(0, "partial"));
  // Drain once the chunk has reached the backend's writer.
  ASSERT_TRUE(backend.Await([](const RecordingBackend::Record& r) {
    return !r.uploads.empty() && !r.uploads[0].writes.empty();
  }));
  (*served)->server().Drain(200);
  EXPECT_FALSE(stream->Finish().ok());
  RecordingBackend::Upload upload = backend.record().uploads.at(0);
  EXPECT_TRUE(upload.aborted);
  EXPECT_FALSE(upload.committed);
}

}  // namespace
}  // namespace sftpgate::testing
