// AuthThrottle (bans per source network), source networks, StartupLimiter
// (unauthenticated connections), SessionCounter (sessions per user) and
// WorkerPool (bounded queue).

#include "server/auth/auth_throttle.h"

#include <atomic>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/auth/local_authenticator.h"
#include "server/auth/session_counter.h"
#include "server/auth/startup_limiter.h"
#include "server/common/metrics.h"
#include "server/common/worker_pool.h"
#include "server/config/ip_networks.h"
#include "server/config/password_hash.h"
#include "server/config/users.h"

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

TEST(AuthThrottleTest, FloodsEvictTheOldestCountsAndKeepTracking) {
  AuthThrottleOptions options = Options(2);
  options.max_tracked = 2000;
  Metrics metrics;
  options.eviction_counter = metrics.GetCounter("evictions", "");
  options.banned_gauge = metrics.GetGauge("banned", "");
  AuthThrottle throttle(options);
  // Banned first, then a flood of single failures from new addresses.
  throttle.RecordFailure("10.9.9.9", kStart);
  ASSERT_TRUE(throttle.RecordFailure("10.9.9.9", kStart));
  for (int i = 0; i < 5000; ++i) {
    throttle.RecordFailure(absl::StrCat("10.0.", i / 256, ".", i % 256),
                           kStart + absl::Milliseconds(i));
  }
  // New addresses are still tracked (before: dropped silently past the
  // bound) ...
  const absl::Time later = kStart + absl::Seconds(6);
  EXPECT_TRUE(throttle.RecordFailure("10.0.19.135", later));  // i = 4999
  // ... evictions took the oldest counts, not the ban, and were counted.
  EXPECT_TRUE(throttle.IsBanned("10.9.9.9", later));
  EXPECT_GE(throttle.evictions(), 3000u);
  EXPECT_EQ(options.eviction_counter->value(), throttle.evictions());
  EXPECT_EQ(throttle.BannedSources(later), 2u);
  EXPECT_EQ(options.banned_gauge->value(), 2);
  EXPECT_EQ(throttle.BannedSources(kStart + absl::Seconds(400)), 0u);
  EXPECT_EQ(options.banned_gauge->value(), 0);
}

TEST(AuthThrottleTest, CountsIpv6PerSlash64) {
  AuthThrottle throttle(Options(3));
  EXPECT_FALSE(throttle.RecordFailure("2001:db8:1:2::1", kStart));
  EXPECT_FALSE(throttle.RecordFailure("2001:db8:1:2:aaaa::7", kStart));
  EXPECT_TRUE(
      throttle.RecordFailure("2001:db8:1:2:ffff:ffff:ffff:ffff", kStart));
  EXPECT_TRUE(throttle.IsBanned("2001:db8:1:2::99", kStart));
  EXPECT_FALSE(throttle.IsBanned("2001:db8:1:3::1", kStart));
  EXPECT_EQ(throttle.SourceOf("2001:db8:1:2::99"), "2001:db8:1:2::/64");
  EXPECT_EQ(throttle.SourceOf("10.1.2.3"), "10.1.2.3/32");
  // IPv4-mapped addresses count as IPv4.
  EXPECT_EQ(throttle.SourceOf("::ffff:10.1.2.3"), "10.1.2.3/32");
}

TEST(AuthThrottleTest, PrefixesAreConfigurable) {
  AuthThrottleOptions options = Options(2);
  options.grouping.ipv6_prefix = 48;
  options.grouping.ipv4_prefix = 24;
  AuthThrottle throttle(options);
  throttle.RecordFailure("2001:db8:1:2::1", kStart);
  EXPECT_TRUE(throttle.RecordFailure("2001:db8:1:ffff::1", kStart));
  throttle.RecordFailure("192.0.2.1", kStart);
  EXPECT_TRUE(throttle.RecordFailure("192.0.2.200", kStart));
  EXPECT_FALSE(throttle.IsBanned("192.0.3.1", kStart));
}

TEST(AuthThrottleTest, ExemptNetworksAreNeverBanned) {
  AuthThrottleOptions options = Options(1);
  options.exempt = *ParseIpNetworkList("10.0.0.0/8, ::1");
  AuthThrottle throttle(options);
  EXPECT_FALSE(throttle.RecordFailure("10.200.0.1", kStart));
  EXPECT_FALSE(throttle.IsBanned("10.200.0.1", kStart));
  EXPECT_FALSE(throttle.RecordFailure("::1", kStart));
  // Loopback IPv4 was not listed: counted like any address.
  EXPECT_TRUE(throttle.RecordFailure("127.0.0.1", kStart));
}

TEST(SourceNetworksTest, ParsesAndRejects) {
  EXPECT_EQ(ParseIpNetwork("192.0.2.0/24")->ToString(), "192.0.2.0/24");
  // Bits past the prefix are a typo, not a network: refused.
  EXPECT_FALSE(ParseIpNetwork("192.0.2.77/24").ok());
  EXPECT_EQ(ParseIpNetwork("2001:db8::1")->ToString(), "2001:db8::1/128");
  EXPECT_FALSE(ParseIpNetwork("192.0.2.1/33").ok());
  EXPECT_FALSE(ParseIpNetwork("example.com").ok());
  EXPECT_FALSE(ParseIpNetworkList("10.0.0.0/8,nope").ok());
  EXPECT_TRUE(ParseIpNetworkList("")->empty());
  EXPECT_TRUE(
      InAnyNetwork("::ffff:10.1.1.1", *ParseIpNetworkList("10.0.0.0/8")));
  EXPECT_FALSE(InAnyNetwork("11.1.1.1", *ParseIpNetworkList("10.0.0.0/8")));
}

TEST(StartupLimiterTest, LimitsPerSourceNetworkAndInTotal) {
  StartupLimiter limiter(5, 2, SourceGrouping{});
  StartupLimiter::Refusal refusal;
  auto a1 = limiter.TryAcquire("127.0.0.2", &refusal);
  auto a2 = limiter.TryAcquire("127.0.0.2", &refusal);
  ASSERT_NE(a1, nullptr);
  ASSERT_NE(a2, nullptr);
  EXPECT_EQ(limiter.TryAcquire("127.0.0.2", &refusal), nullptr);
  EXPECT_EQ(refusal, StartupLimiter::Refusal::kPerSource);
  // One IPv6 /64 is one source.
  auto b1 = limiter.TryAcquire("2001:db8::1", &refusal);
  auto b2 = limiter.TryAcquire("2001:db8::2", &refusal);
  ASSERT_NE(b2, nullptr);
  EXPECT_EQ(limiter.TryAcquire("2001:db8::3", &refusal), nullptr);
  auto c1 = limiter.TryAcquire("127.0.0.1", &refusal);
  ASSERT_NE(c1, nullptr);
  EXPECT_EQ(limiter.TryAcquire("127.0.0.3", &refusal), nullptr);
  EXPECT_EQ(refusal, StartupLimiter::Refusal::kTotal);
  a1.reset();
  EXPECT_EQ(limiter.Total(), 4);
  EXPECT_EQ(limiter.BySource("127.0.0.2"), 1);
  EXPECT_NE(limiter.TryAcquire("127.0.0.2", &refusal), nullptr);
  EXPECT_EQ(limiter.BySource("127.0.0.2"), 1);  // the new slot went at once
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

// A full password-check queue is not the client's fault: the refusal says
// so (Connection then counts no penalty for it).
TEST(LocalAuthenticatorTest, FullQueueRefusesAsUnavailable) {
  WorkerPool pool("test-auth", 1, 1);
  absl::Notification release;
  absl::Notification started;
  ASSERT_TRUE(pool.TrySubmit([&] {
    started.Notify();
    release.WaitForNotification();
  }));
  started.WaitForNotification();
  ASSERT_TRUE(pool.TrySubmit([] {}));  // the queue is full now
  absl::StatusOr<UserDb> users =
      ParseUsers("[[user]]\nname = \"alice\"\npassword_hash = \"" +
                     *HashPassword("pw") + "\"\n",
                 "test");
  ASSERT_TRUE(users.ok()) << users.status();
  LocalAuthenticator auth(*std::move(users), &pool);
  AuthAttempt attempt;
  attempt.user = "alice";
  attempt.password = "wrong";
  std::optional<AuthVerdict> verdict;
  auth.Authenticate(std::move(attempt),
                    [&](AuthVerdict v) { verdict = std::move(v); });
  ASSERT_TRUE(verdict.has_value());  // answered at once
  EXPECT_FALSE(verdict->accepted);
  EXPECT_TRUE(verdict->unavailable);
  release.Notify();
  pool.Shutdown();
}

}  // namespace
}  // namespace sftpgate::server
