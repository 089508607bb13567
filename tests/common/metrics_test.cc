// The metrics registry and its Prometheus rendering.

#include "server/common/metrics.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sftpgate::server {
namespace {

using ::testing::HasSubstr;

TEST(MetricsTest, SameNameAndLabelsGiveTheSameObject) {
  Metrics metrics;
  Counter* a = metrics.GetCounter("x_total", "help", {{"op", "READ"}});
  EXPECT_EQ(a, metrics.GetCounter("x_total", "other help", {{"op", "READ"}}));
  EXPECT_NE(a, metrics.GetCounter("x_total", "help", {{"op", "WRITE"}}));
}

TEST(MetricsTest, RendersCountersAndGaugesWithEscapedLabels) {
  Metrics metrics;
  metrics.GetCounter("sftpgate_ops_total", "Ops.", {{"op", "READ"}})
      ->Increment(3);
  metrics.GetCounter("sftpgate_ops_total", "Ops.", {{"op", "a\"b\\c\nd"}})
      ->Increment();
  metrics.GetGauge("sftpgate_open", "Open now.")->Add(5);
  metrics.GetGauge("sftpgate_open", "Open now.")->Add(-2);
  EXPECT_EQ(metrics.RenderPrometheus(),
            "# HELP sftpgate_open Open now.\n"
            "# TYPE sftpgate_open gauge\n"
            "sftpgate_open 3\n"
            "# HELP sftpgate_ops_total Ops.\n"
            "# TYPE sftpgate_ops_total counter\n"
            "sftpgate_ops_total{op=\"READ\"} 3\n"
            "sftpgate_ops_total{op=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics metrics;
  Histogram* h =
      metrics.GetHistogram("call_seconds", "Latency.", {{"method", "Stat"}});
  h->Observe(0.00005);  // first bucket (<= 0.0001)
  h->Observe(0.0001);   // le is inclusive
  h->Observe(0.3);
  h->Observe(60);  // only +Inf
  std::vector<uint64_t> counts = h->CumulativeCounts();
  ASSERT_EQ(counts.size(), h->upper_bounds().size() + 1);
  EXPECT_EQ(counts.front(), 2u);
  EXPECT_EQ(counts.back(), 4u);
  EXPECT_EQ(h->count(), 4u);
  EXPECT_NEAR(h->sum(), 60.30015, 1e-5);
  std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("# TYPE call_seconds histogram\n"));
  EXPECT_THAT(
      text,
      HasSubstr("call_seconds_bucket{method=\"Stat\",le=\"0.0001\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("call_seconds_bucket{method=\"Stat\",le=\"0.5\"} 3\n"));
  EXPECT_THAT(
      text, HasSubstr("call_seconds_bucket{method=\"Stat\",le=\"+Inf\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("call_seconds_count{method=\"Stat\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("call_seconds_sum{method=\"Stat\"} 60.3"));
}

TEST(MetricsTest, MisuseGetsADetachedObject) {
  Metrics metrics;
  metrics.GetCounter("thing", "A counter.")->Increment();
  Gauge* wrong_kind = metrics.GetGauge("thing", "Not a gauge.");
  ASSERT_NE(wrong_kind, nullptr);
  wrong_kind->Set(42);
  Counter* wrong_labels = metrics.GetCounter("thing", "", {{"a", "b"}});
  wrong_labels->Increment(7);
  std::string text = metrics.RenderPrometheus();
  EXPECT_THAT(text, HasSubstr("thing 1\n"));
  EXPECT_EQ(text.find("42"), std::string::npos);
  EXPECT_EQ(text.find("a=\"b\""), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreCounted) {
  Metrics metrics;
  Counter* counter = metrics.GetCounter("c_total", "");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) counter->Increment();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter->value(), 40000u);
}

}  // namespace
}  // namespace sftpgate::server
