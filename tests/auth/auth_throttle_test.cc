// AuthThrottle (bans per source address), SessionCounter (sessions per
// user) and WorkerPool (bounded queue).

#include "server/auth/auth_throttle.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/auth/session_counter.h"
#include "server/common/worker_pool.h"

namespace sftpgate::server {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000000);

AuthThrottleOptions Options(int max_failures) {
  AuthThrottleOptions options;
  options.max_failures = max_failures;
  options.window = absl::Seconds(60);
  options.ban = absl::Seconds(300);
  return options;
}

TEST(AuthThrottleTest, BansAfterMaxFailuresWithinTheWindowOnce) {
  AuthThrottle throttle(Options(3));
  EXPECT_FALSE(throttle.RecordFailure("10.0.0.1", kStart));
  EXPECT_FALSE(throttle.RecordFailure("10.0.0.1", kStart + absl::Seconds(1)));
  EXPECT_FALSE(throttle.IsBanned("10.0.0.1", kStart + absl::Seconds(1)));
  EXPECT_TRUE(throttle.RecordFailure("10.0.0.1", kStart + absl::Seconds(2)));
  EXPECT_TRUE(throttle.IsBanned("10.0.0.1", kStart + absl::Seconds(2)));
  // Further failures during the ban start no second ban.
  EXPECT_FALSE(throttle.RecordFailure("10.0.0.1", kStart + absl::Seconds(3)));
  // Other addresses are not affected.
  EXPECT_FALSE(throttle.IsBanned("10.0.0.2", kStart + absl::Seconds(3)));
  EXPECT_TRUE(throttle.IsBanned("10.0.0.1", kStart + absl::Seconds(301)));
  EXPECT_FALSE(throttle.IsBanned("10.0.0.1", kStart + absl::Seconds(303)));
}

TEST(AuthThrottleTest, FailuresOutsideTheWindowDoNotAddUp) {
  AuthThrottle throttle(Options(2));
  EXPECT_FALSE(throttle.RecordFailure("::1", kStart));
  EXPECT_FALSE(throttle.RecordFailure("::1", kStart + absl::Seconds(61)));
  EXPECT_FALSE(throttle.IsBanned("::1", kStart + absl::Seconds(61)));
  EXPECT_TRUE(throttle.RecordFailure("::1", kStart + absl::Seconds(62)));
}

TEST(AuthThrottleTest, ZeroDisables) {
  AuthThrottle throttle(Options(0));
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(throttle.RecordFailure("10.0.0.1", kStart));
  }
  EXPECT_FALSE(throttle.IsBanned("10.0.0.1", kStart));
}

TEST(AuthThrottleTest, TrackingIsBounded) {
  AuthThrottleOptions options = Options(1);
  options.max_tracked = 2000;
  AuthThrottle throttle(options);
  for (int i = 0; i < 3000; ++i) {
    throttle.RecordFailure(std::to_string(i), kStart);
  }
  // The first ones are banned; beyond the bound nothing is tracked.
  EXPECT_TRUE(throttle.IsBanned("0", kStart));
  EXPECT_FALSE(throttle.IsBanned("2999", kStart));
  // Once the old entries are stale they are pruned and tracking resumes.
  absl::Time later = kStart + absl::Seconds(400);
  for (int i = 3000; i < 4500; ++i) {
    throttle.RecordFailure(std::to_string(i), later);
  }
  EXPECT_TRUE(throttle.IsBanned("4499", later));
}

TEST(SessionCounterTest, LimitsPerUserAndTenant) {
  SessionCounter counter(2);
  Identity alice;
  alice.user = "alice";
  Identity other_alice = alice;
  other_alice.tenant = "acme";
  EXPECT_TRUE(counter.TryAcquire(alice));
  EXPECT_TRUE(counter.TryAcquire(alice));
  EXPECT_FALSE(counter.TryAcquire(alice));
  EXPECT_TRUE(counter.TryAcquire(other_alice));
  EXPECT_EQ(counter.Count(alice), 2);
  counter.Release(alice);
  EXPECT_TRUE(counter.TryAcquire(alice));
  SessionCounter unlimited(0);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(unlimited.TryAcquire(alice));
}

TEST(WorkerPoolTest, RunsTasksAndRefusesBeyondTheQueueBound) {
  WorkerPool pool("test-pool", 1, 2);
  absl::Notification release;
  std::atomic<int> ran{0};
  absl::Notification first_started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    first_started.Notify();
    release.WaitForNotification();
    ++ran;
  }));
  first_started.WaitForNotification();
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));  // queue full
  release.Notify();
  pool.Shutdown();  // waits for the running task; may drop queued ones
  EXPECT_GE(ran.load(), 1);
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
}

}  // namespace
}  // namespace sftpgate::server
