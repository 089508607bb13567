#include "server/exec/exec_command.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sftpgate::server::exec {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T>
T Parse(absl::string_view line) {
  absl::StatusOr<ExecCommand> command = ParseExecCommand(line);
  EXPECT_TRUE(command.ok()) << line << ": " << command.status();
  if (!command.ok() || !std::holds_alternative<T>(*command)) {
    ADD_FAILURE() << line << " parsed as another command";
    return T();
  }
  return std::get<T>(*command);
}

std::string Refusal(absl::string_view line) {
  absl::StatusOr<ExecCommand> command = ParseExecCommand(line);
  EXPECT_FALSE(command.ok()) << line;
  return command.ok() ? "" : std::string(command.status().message());
}

TEST(ParseExecCommandTest, ScpSinkAsOpenSshSendsIt) {
  ScpCommand c = Parse<ScpCommand>("scp -r -p -d -t -- /up/dir");
  EXPECT_TRUE(c.sink);
  EXPECT_TRUE(c.recursive);
  EXPECT_TRUE(c.preserve);
  EXPECT_TRUE(c.target_dir);
  EXPECT_THAT(c.paths, ElementsAre("/up/dir"));
  c = Parse<ScpCommand>("scp -v -t .");
  EXPECT_FALSE(c.recursive || c.preserve || c.target_dir);
  EXPECT_THAT(c.paths, ElementsAre("."));
  c = Parse<ScpCommand>("scp -prt x");
  EXPECT_TRUE(c.sink && c.recursive && c.preserve);
}

TEST(ParseExecCommandTest, ScpSourceTakesSeveralPathsAndDashNames) {
  ScpCommand c = Parse<ScpCommand>("scp -f -- -odd 'my file' b");
  EXPECT_FALSE(c.sink);
  EXPECT_THAT(c.paths, ElementsAre("-odd", "my file", "b"));
}

TEST(ParseExecCommandTest, ScpRefusals) {
  EXPECT_THAT(Refusal("scp -t a b"), HasSubstr("one target"));
  EXPECT_THAT(Refusal("scp -f"), HasSubstr("needs a source"));
  EXPECT_THAT(Refusal("scp -t -f x"), HasSubstr("exactly one"));
  EXPECT_THAT(Refusal("scp x"), HasSubstr("exactly one"));
  EXPECT_THAT(Refusal("scp -S /bin/sh -t x"), HasSubstr("-S"));
  EXPECT_THAT(Refusal("scp -t $HOME"), HasSubstr("variables"));
}

TEST(ParseExecCommandTest, Checksums) {
  ChecksumCommand c = Parse<ChecksumCommand>("md5sum /a 'b c'");
  EXPECT_EQ(c.program, "md5sum");
  EXPECT_EQ(c.algorithm, v1::HASH_MD5);
  EXPECT_THAT(c.paths, ElementsAre("/a", "b c"));
  c = Parse<ChecksumCommand>("sha1sum");
  EXPECT_EQ(c.algorithm, v1::HASH_SHA1);
  EXPECT_THAT(c.paths, ElementsAre("-"));
  c = Parse<ChecksumCommand>("sha256sum -- -x");
  EXPECT_EQ(c.algorithm, v1::HASH_SHA256);
  EXPECT_THAT(c.paths, ElementsAre("-x"));
  EXPECT_THAT(Refusal("md5sum -c list"), HasSubstr("-c"));
  EXPECT_THAT(Refusal("sha512sum x"), HasSubstr("not allowed"));
}

TEST(ParseExecCommandTest, EchoForRclonesProbe) {
  EchoCommand e = Parse<EchoCommand>("echo ${ShellId}%ComSpec%");
  EXPECT_THAT(e.words, ElementsAre("%ComSpec%"));
  EXPECT_TRUE(e.newline);
  e = Parse<EchoCommand>("echo -n a b");
  EXPECT_FALSE(e.newline);
  EXPECT_THAT(e.words, ElementsAre("a", "b"));
  EXPECT_THAT(Refusal("echo 'a\\nb'"), HasSubstr("backslash"));
}

TEST(ParseExecCommandTest, EverythingElseIsRefused) {
  for (const char* line :
       {"ls -la", "sh -c id", "/usr/bin/scp -t x", "rclone md5sum x", "md5 -r",
        "cat /etc/passwd", "", "bash"}) {
    EXPECT_FALSE(ParseExecCommand(line).ok()) << line;
  }
}

}  // namespace
}  // namespace sftpgate::server::exec
