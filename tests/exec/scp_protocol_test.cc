#include "server/exec/scp_protocol.h"

#include "gtest/gtest.h"

namespace sftpgate::server::exec {
namespace {

TEST(ScpProtocolTest, ParsesFileAndDirectoryRecords) {
  absl::StatusOr<ScpEntryRecord> c = ParseScpEntry("C0640 1234 a b.txt");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->directory);
  EXPECT_EQ(c->mode, 0640u);
  EXPECT_EQ(c->size, 1234u);
  EXPECT_EQ(c->name, "a b.txt");
  absl::StatusOr<ScpEntryRecord> d = ParseScpEntry("D0755 0 sub");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->directory);
  EXPECT_EQ(d->mode, 0755u);
}

TEST(ScpProtocolTest, RefusesMalformedRecordsAndEscapingNames) {
  for (const char* line :
       {"C644 1 a", "C0648 1 a", "C0644 1a a", "C0644 -1 a", "C0644 1",
        "C0644 1 ", "C0644 1 ..", "C0644 1 .", "C0644 1 a/b", "C0644 1 /a",
        "X0644 1 a", "C0644  1 a", "C0644 99999999999999999999999 a"}) {
    EXPECT_FALSE(ParseScpEntry(line).ok()) << line;
  }
}

TEST(ScpProtocolTest, TimesRecords) {
  absl::StatusOr<ScpTimesRecord> t =
      ParseScpTimes("T1100000000 0 1000000000 0");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->mtime, 1100000000);
  EXPECT_EQ(t->atime, 1000000000);
  for (const char* line :
       {"T1 0 2", "T1 0 2 0 ", "Tx 0 2 0", "T1 1000000 2 0"}) {
    EXPECT_FALSE(ParseScpTimes(line).ok()) << line;
  }
}

TEST(ScpProtocolTest, FormatsRecordsAsOpenSsh) {
  EXPECT_EQ(ScpEntryLine({false, 0100644, 5, "f"}), "C0644 5 f\n");
  EXPECT_EQ(ScpEntryLine({true, 040700, 99, "d"}), "D0700 0 d\n");
  EXPECT_EQ(ScpTimesLine(20, 10), "T20 0 10 0\n");
  EXPECT_EQ(ScpErrorLine("x: No such file or directory"),
            "\1scp: x: No such file or directory\n");
  EXPECT_EQ(ScpErrorLine("a\nb", true), "\2scp: a b\n");
}

}  // namespace
}  // namespace sftpgate::server::exec
