// The event log: one line per event, values escaped in both formats, lines
// whole under concurrency, levels filtered.

#include "server/common/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sftpgate::server {
namespace {

using ::testing::HasSubstr;

// Captures what is written to stderr (fd 2) while alive.
class StderrCapture {
 public:
  StderrCapture() : path_(testing::TempDir() + "/log_test_stderr") {
    fflush(stderr);
    saved_ = dup(2);
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  std::string Finish() {
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(path_.c_str());
    return text.str();
  }

 private:
  std::string path_;
  int saved_;
};

class LogTest : public testing::Test {
 protected:
  void TearDown() override {
    SetLogFormat(LogFormat::kText);
    SetLogLevel(LogLevel::kInfo);
  }
};

TEST_F(LogTest, TextQuotesOnlyWhatNeedsIt) {
  SetLogFormat(LogFormat::kText);
  StderrCapture capture;
  LogEvent(LogLevel::kInfo, "auth",
           {{"user", "alice"},
            {"reason", "too many failures"},
            {"evil", "a\nb=\"c\""},
            {"empty", ""}});
  std::string out = capture.Finish();
  EXPECT_THAT(out, HasSubstr(" info auth user=alice "
                             "reason=\"too many failures\" "
                             "evil=\"a\\nb=\\\"c\\\"\" empty=\"\"\n"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  // 2026-01-01T00:00:00.000Z
  EXPECT_EQ(out[4], '-');
  EXPECT_EQ(out[10], 'T');
  EXPECT_EQ(out[23], 'Z');
}

TEST_F(LogTest, JsonEscapes) {
  SetLogFormat(LogFormat::kJson);
  StderrCapture capture;
  LogEvent(LogLevel::kWarning, "auth",
           {{"user", "a\"b\\c\td\x01"}, {"result", "fail"}});
  std::string out = capture.Finish();
  EXPECT_THAT(out, HasSubstr("\"level\":\"warning\",\"event\":\"auth\","
                             "\"user\":\"a\\\"b\\\\c\\td\\u0001\","
                             "\"result\":\"fail\"}\n"));
  EXPECT_EQ(out.rfind("{\"ts\":\"", 0), 0u);
}

TEST_F(LogTest, LevelFilter) {
  SetLogLevel(LogLevel::kWarning);
  StderrCapture capture;
  LogEvent(LogLevel::kInfo, "hidden", {});
  LogEvent(LogLevel::kDebug, "hidden", {});
  LogEvent(LogLevel::kError, "shown", {});
  std::string out = capture.Finish();
  EXPECT_THAT(out, HasSubstr("error shown"));
  EXPECT_THAT(out, testing::Not(HasSubstr("hidden")));
}

TEST_F(LogTest, ConcurrentLinesStayWhole) {
  SetLogFormat(LogFormat::kText);
  StderrCapture capture;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        LogEvent(LogLevel::kInfo, "op",
                 {{"thread", std::to_string(t)},
                  {"payload", std::string(300, static_cast<char>('a' + t))}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::string out = capture.Finish();
  std::vector<std::string> lines = absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 800u);
  for (const std::string& line : lines) {
    char c = line.back();
    EXPECT_EQ(line.substr(line.size() - 300), std::string(300, c));
    EXPECT_THAT(line, HasSubstr(std::string(" op thread=") +
                                static_cast<char>('0' + (c - 'a'))));
  }
}

}  // namespace
}  // namespace sftpgate::server
