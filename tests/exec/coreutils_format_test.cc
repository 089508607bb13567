// Expected strings are what GNU coreutils 9.1's md5sum printed for the
// same names on Debian 12 (captured by running it).
#include "server/exec/coreutils_format.h"

#include "gtest/gtest.h"

namespace sftpgate::server::exec {
namespace {

TEST(ChecksumLineTest, PlainAndEscapedNames) {
  EXPECT_EQ(ChecksumLine("abc", "/d/f.txt"), "abc  /d/f.txt\n");
  EXPECT_EQ(ChecksumLine("abc", "a b"), "abc  a b\n");
  EXPECT_EQ(ChecksumLine("9d", "a\\b"), "\\9d  a\\\\b\n");
  EXPECT_EQ(ChecksumLine("41", "c\nd"), "\\41  c\\nd\n");
  EXPECT_EQ(ChecksumLine("fb", "e\rf"), "\\fb  e\\rf\n");
}

TEST(QuoteFileNameTest, MatchesCoreutils) {
  EXPECT_EQ(QuoteFileName("nope"), "nope");
  EXPECT_EQ(QuoteFileName("/a/b-c_d.e,f+g%h@i]j{k}"),
            "/a/b-c_d.e,f+g%h@i]j{k}");
  EXPECT_EQ(QuoteFileName(""), "''");
  EXPECT_EQ(QuoteFileName("a b"), "'a b'");
  EXPECT_EQ(QuoteFileName("a:b"), "'a:b'");
  EXPECT_EQ(QuoteFileName("x$y"), "'x$y'");
  EXPECT_EQ(QuoteFileName("#ab"), "'#ab'");
  EXPECT_EQ(QuoteFileName("a#b"), "a#b");
  EXPECT_EQ(QuoteFileName("it's"), "\"it's\"");
  EXPECT_EQ(QuoteFileName("it's a"), "\"it's a\"");
  EXPECT_EQ(QuoteFileName("#i'x"), "\"#i'x\"");
  EXPECT_EQ(QuoteFileName("a'b\"c"), "'a'\\''b\"c'");
  EXPECT_EQ(QuoteFileName("n\nl"), "'n'$'\\n''l'");
  EXPECT_EQ(QuoteFileName("a\n'c"), "'a'$'\\n'''\\''c'");
  EXPECT_EQ(QuoteFileName("\nab"), "''$'\\n''ab'");
  EXPECT_EQ(QuoteFileName("ab\n"), "'ab'$'\\n'");
  EXPECT_EQ(QuoteFileName("a\n\nb"), "'a'$'\\n\\n''b'");
  EXPECT_EQ(QuoteFileName("a\x01"
                          "b"),
            "'a'$'\\001''b'");
  EXPECT_EQ(QuoteFileName("a\x7f"
                          "b"),
            "'a'$'\\177''b'");
  EXPECT_EQ(QuoteFileName("\xc3\xbc"), "\xc3\xbc");
  EXPECT_EQ(QuoteFileName("a\xff"
                          "b"),
            "'a'$'\\377''b'");
  EXPECT_EQ(QuoteFileName("i'\xff"
                          "x"),
            "'i'\\'''$'\\377''x'");
}

TEST(DiagnosticLineTest, Format) {
  EXPECT_EQ(DiagnosticLine("md5sum", "/nope", "No such file or directory"),
            "md5sum: /nope: No such file or directory\n");
  EXPECT_EQ(DiagnosticLine("sha1sum", "/a b", "Is a directory"),
            "sha1sum: '/a b': Is a directory\n");
}

}  // namespace
}  // namespace sftpgate::server::exec
