// EventLoop: closures run on the loop thread in post order, from any
// thread; the owner's descriptors are polled and reported; after_poll runs
// each round; after Stop closures do not run.

#include "server/common/event_loop.h"

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace sftpgate::server {
namespace {

TEST(EventLoopTest, RunsPostedClosuresInOrderOnTheLoopThread) {
  EventLoop loop("test-loop");
  ASSERT_TRUE(loop.Start({}).ok());
  EXPECT_FALSE(loop.InLoopThread());
  std::vector<int> order;  // touched on the loop thread only
  std::atomic<int> wrong_thread{0};
  absl::Notification done;
  for (int i = 0; i < 1000; ++i) {
    loop.Post([&, i] {
      if (!loop.InLoopThread()) ++wrong_thread;
      order.push_back(i);
      if (i == 999) done.Notify();
    });
  }
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(wrong_thread.load(), 0);
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
  loop.Stop();
  loop.Join();
}

TEST(EventLoopTest, PostFromManyThreadsWakesAnIdleLoop) {
  EventLoop loop("test-loop");
  EventLoop::Hooks hooks;
  // A long idle wait: only the eventfd can wake the loop quickly.
  hooks.after_poll = [] { return 60000; };
  ASSERT_TRUE(loop.Start(std::move(hooks)).ok());
  std::atomic<int> count{0};
  absl::Notification done;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        loop.Post([&] {
          if (++count == 1000) done.Notify();
        });
        if (i % 50 == 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  loop.Stop();
  loop.Join();
}

TEST(EventLoopTest, HooksRunOnTheLoopAndClosuresAfterStopDoNotRun) {
  EventLoop loop("test-loop");
  std::atomic<int> rounds{0};
  std::atomic<bool> stopped_on_loop{false};
  EventLoop::Hooks hooks;
  hooks.after_poll = [&] {
    ++rounds;
    return 10;
  };
  hooks.on_stop = [&] { stopped_on_loop = loop.InLoopThread(); };
  ASSERT_TRUE(loop.Start(std::move(hooks)).ok());
  while (rounds.load() < 3)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  loop.Stop();
  loop.Join();
  EXPECT_TRUE(stopped_on_loop.load());
  bool ran = false;
  auto token = std::make_shared<int>(0);
  std::weak_ptr<int> watch = token;
  loop.Post([&ran, token = std::move(token)] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired());  // destroyed, not kept
}

TEST(EventLoopTest, PollsTheOwnersDescriptorsAndReportsWhichFired) {
  int quiet[2], busy[2];
  ASSERT_EQ(pipe(quiet), 0);
  ASSERT_EQ(pipe(busy), 0);
  EventLoop loop("test-loop");
  std::atomic<int> busy_ready{0};
  std::atomic<int> quiet_ready{0};
  absl::Notification seen;
  EventLoop::Hooks hooks;
  hooks.before_poll = [&](std::vector<pollfd>* fds) {
    fds->push_back({quiet[0], POLLIN, 0});
    fds->push_back({busy[0], POLLIN, 0});
  };
  hooks.on_ready = [&](const pollfd* fds, size_t count) {
    ASSERT_EQ(count, 2u);
    if (fds[0].revents != 0) ++quiet_ready;
    if (fds[1].revents & POLLIN) {
      char byte;
      ASSERT_EQ(read(busy[0], &byte, 1), 1);
      if (++busy_ready == 1) seen.Notify();
    }
  };
  // A long idle wait: only the descriptor can wake the loop quickly.
  hooks.after_poll = [] { return 60000; };
  ASSERT_TRUE(loop.Start(std::move(hooks)).ok());
  ASSERT_EQ(write(busy[1], "x", 1), 1);
  EXPECT_TRUE(seen.WaitForNotificationWithTimeout(absl::Seconds(10)));
  loop.Stop();
  loop.Join();
  EXPECT_EQ(busy_ready.load(), 1);
  EXPECT_EQ(quiet_ready.load(), 0);
  for (int fd : {quiet[0], quiet[1], busy[0], busy[1]}) close(fd);
}

}  // namespace
}  // namespace sftpgate::server
