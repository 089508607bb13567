#include "server/exec/command_line.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sftpgate::server::exec {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Words(absl::string_view line) {
  absl::StatusOr<CommandLine> split = SplitCommandLine(line);
  EXPECT_TRUE(split.ok()) << line << ": " << split.status();
  return split.ok() ? split->words : std::vector<std::string>{};
}

bool Refused(absl::string_view line) {
  absl::StatusOr<CommandLine> split = SplitCommandLine(line);
  return !split.ok() &&
         split.status().code() == absl::StatusCode::kInvalidArgument;
}

TEST(SplitCommandLineTest, PlainWordsAndBlanks) {
  EXPECT_THAT(Words("scp -t  -- /a/b"), ElementsAre("scp", "-t", "--", "/a/b"));
  EXPECT_THAT(Words("\tmd5sum\t x "), ElementsAre("md5sum", "x"));
  EXPECT_TRUE(Words("   ").empty());
}

TEST(SplitCommandLineTest, QuotesAndEscapesAsAShellReadsThem) {
  EXPECT_THAT(Words("md5sum 'a b' \"c d\" e\\ f"),
              ElementsAre("md5sum", "a b", "c d", "e f"));
  // rclone's shellEscape: every special character backslashed, newlines
  // in single quotes.
  EXPECT_THAT(Words("md5sum /dir/it\\'s\\ a\\ \\(file\\)'\n'x"),
              ElementsAre("md5sum", "/dir/it's a (file)\nx"));
  EXPECT_THAT(Words("echo 'a\"b' \"a'b\" \"\\$x \\\\ \\a\""),
              ElementsAre("echo", "a\"b", "a'b", "$x \\ \\a"));
  EXPECT_THAT(Words("x ''"), ElementsAre("x", ""));
}

TEST(SplitCommandLineTest, VariablesExpandToNothing) {
  absl::StatusOr<CommandLine> split =
      SplitCommandLine("echo ${ShellId}%ComSpec%");
  ASSERT_TRUE(split.ok());
  EXPECT_THAT(split->words, ElementsAre("echo", "%ComSpec%"));
  EXPECT_TRUE(split->expanded_variables);
  EXPECT_THAT(Words("echo \"$HOME\"x '$HOME'"),
              ElementsAre("echo", "x", "$HOME"));
  EXPECT_FALSE(SplitCommandLine("echo a")->expanded_variables);
}

TEST(SplitCommandLineTest, RefusesEveryShellConstruct) {
  for (const char* line : {"md5sum a; rm -rf /",
                           "md5sum a && b",
                           "md5sum a | cat",
                           "cat <x",
                           "echo >x",
                           "echo $(id)",
                           "echo `id`",
                           "echo \"`id`\"",
                           "echo ${x:-y}",
                           "md5sum *",
                           "md5sum a?",
                           "md5sum [ab]",
                           "md5sum {a,b}",
                           "md5sum ~/x",
                           "md5sum #x",
                           "echo a\nid",
                           "echo 'open",
                           "echo \"open",
                           "echo a\\",
                           "echo $",
                           "echo $1",
                           "(id)",
                           "md5sum a&"}) {
    EXPECT_TRUE(Refused(line)) << line;
  }
  EXPECT_TRUE(Refused(std::string("md5sum a\0b", 10)));
  EXPECT_TRUE(Refused(std::string(kMaxCommandLine + 1, 'a')));
  // Quoted, the same characters are plain text.
  EXPECT_THAT(Words("md5sum '*;|&<>()~#'"),
              ElementsAre("md5sum", "*;|&<>()~#"));
  EXPECT_THAT(Words("md5sum a#b a~b"), ElementsAre("md5sum", "a#b", "a~b"));
}

}  // namespace
}  // namespace sftpgate::server::exec
