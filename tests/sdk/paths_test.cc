// Table tests of the lexical path helpers, including hostile inputs.

#include "sftpgate/paths.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sftpgate {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const std::string kNul("a\0b", 3);

TEST(NormalizePathTest, Table) {
  struct Case {
    std::string in;
    std::string out;
  };
  const std::vector<Case> cases = {
      {"/", "/"},
      {"", "/"},
      {".", "/"},
      {"..", "/"},
      {"a", "/a"},
      {"a/b", "/a/b"},
      {"/a/b/", "/a/b"},
      {"//a///b//", "/a/b"},
      {"/./a/./b/.", "/a/b"},
      {"/a/b/..", "/a"},
      {"/a/b/../..", "/"},
      {"/a/../../..", "/"},
      {"/../etc/passwd", "/etc/passwd"},
      {"../../../etc", "/etc"},
      {"/a/./../b/./c/..", "/b"},
      {"/...", "/..."},
      {"/a/..b/c..", "/a/..b/c.."},
      {"/ a /b ", "/ a /b "},
      {"/\xc3\xa9t\xc3\xa9", "/\xc3\xa9t\xc3\xa9"},
      {"/a\\..\\b", "/a\\..\\b"},  // backslash is an ordinary byte
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> got = NormalizePath(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(*got, c.out) << "input: " << c.in;
    EXPECT_TRUE(IsNormalizedPath(*got)) << *got;
  }
}

TEST(NormalizePathTest, RefusesNul) {
  for (const std::string& in :
       {kNul, std::string("/x/\0", 4), std::string("\0", 1)}) {
    EXPECT_EQ(NormalizePath(in).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(IsValidUtf8Test, AcceptsWellFormedAndRefusesTheRest) {
  for (const char* ok :
       {"", "plain", "caf\xc3\xa9", "\xe2\x82\xac", "\xed\x9f\xbf",
        "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"}) {
    EXPECT_TRUE(IsValidUtf8(ok)) << ok;
  }
  for (const char* bad : {
           "\xff",              // never valid
           "caf\xe9",           // Latin-1
           "\xc3",              // truncated
           "\x80",              // lone continuation
           "\xc0\xaf",          // overlong "/"
           "\xe0\x80\xaf",      // overlong, three bytes
           "\xed\xa0\x80",      // UTF-16 surrogate
           "\xf4\x90\x80\x80",  // above U+10FFFF
           "\xf5\x80\x80\x80",
       }) {
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
}

TEST(NormalizePathTest, RefusesInvalidUtf8) {
  // Paths travel in the contract's `string` fields: protobuf would refuse
  // the whole message on the far side with an opaque error.
  absl::StatusOr<std::string> got = NormalizePath("/docs/caf\xe9.txt");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), "path is not valid UTF-8");
  EXPECT_FALSE(IsNormalizedPath("/caf\xe9"));
  EXPECT_TRUE(IsNormalizedPath("/caf\xc3\xa9"));
}

TEST(IsNormalizedPathTest, Table) {
  for (const char* yes : {"/", "/a", "/a/b", "/...", "/a b/c"}) {
    EXPECT_TRUE(IsNormalizedPath(yes)) << yes;
  }
  for (const std::string& no :
       {std::string(""), std::string("a"), std::string("a/b"),
        std::string("/a/"), std::string("//"), std::string("/a//b"),
        std::string("/."), std::string("/a/."), std::string("/.."),
        std::string("/a/../b"), std::string("/a/.."), "/" + kNul}) {
    EXPECT_FALSE(IsNormalizedPath(no)) << no;
  }
}

TEST(JoinPathTest, Table) {
  EXPECT_EQ(JoinPath("/", "a"), "/a");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a", "b/c"), "/a/b/c");
  EXPECT_EQ(JoinPath("/a", ""), "/a");
  EXPECT_EQ(JoinPath("/a", "/b"), "/a/b");  // never a new root
  EXPECT_EQ(JoinPath("/srv/root", "//x"), "/srv/root/x");
}

TEST(SplitPathTest, Table) {
  PathParts p = SplitPath("/a/b");
  EXPECT_EQ(p.parent, "/a");
  EXPECT_EQ(p.base, "b");
  p = SplitPath("/a");
  EXPECT_EQ(p.parent, "/");
  EXPECT_EQ(p.base, "a");
  p = SplitPath("/");
  EXPECT_EQ(p.parent, "/");
  EXPECT_EQ(p.base, "");
  p = SplitPath("/x/y/z");
  EXPECT_EQ(p.parent, "/x/y");
  EXPECT_EQ(p.base, "z");
}

TEST(PathComponentsTest, Table) {
  EXPECT_THAT(PathComponents("/"), IsEmpty());
  EXPECT_THAT(PathComponents("/a"), ElementsAre("a"));
  EXPECT_THAT(PathComponents("/a/b/c"), ElementsAre("a", "b", "c"));
}

TEST(IsBeneathTest, Table) {
  EXPECT_TRUE(IsBeneath("/", "/"));
  EXPECT_TRUE(IsBeneath("/", "/a/b"));
  EXPECT_TRUE(IsBeneath("/a", "/a"));
  EXPECT_TRUE(IsBeneath("/a", "/a/b"));
  EXPECT_FALSE(IsBeneath("/a", "/ab"));
  EXPECT_FALSE(IsBeneath("/a", "/"));
  EXPECT_FALSE(IsBeneath("/a/b", "/a"));
  EXPECT_FALSE(IsBeneath("/a", "/b/a"));
  EXPECT_FALSE(IsBeneath("/", "a"));
  EXPECT_FALSE(IsBeneath("/", ""));
}

TEST(ResolveBeneathTest, Joins) {
  EXPECT_EQ(*ResolveBeneath("/srv/u", "/"), "/srv/u");
  EXPECT_EQ(*ResolveBeneath("/srv/u", "/a/b"), "/srv/u/a/b");
  EXPECT_EQ(*ResolveBeneath("/srv/u", "a/./b/"), "/srv/u/a/b");
  EXPECT_EQ(*ResolveBeneath("/srv/u", "/a/../b"), "/srv/u/b");
  EXPECT_EQ(*ResolveBeneath("/", "/a"), "/a");
  EXPECT_EQ(*ResolveBeneath("/srv/u", "/a/.."), "/srv/u");
}

TEST(ResolveBeneathTest, RefusesEscapes) {
  for (const char* hostile :
       {"..", "/..", "/../u2", "/a/../../u2", "../../../../etc/passwd",
        "/a/b/../../../x", "./.."}) {
    absl::StatusOr<std::string> got = ResolveBeneath("/srv/u", hostile);
    EXPECT_EQ(got.status().code(), absl::StatusCode::kPermissionDenied)
        << hostile << " -> " << (got.ok() ? *got : "error");
  }
}

TEST(ResolveBeneathTest, RefusesBadInput) {
  EXPECT_EQ(ResolveBeneath("/srv/u", "/a/" + kNul).status().code(),
            absl::StatusCode::kInvalidArgument);
  for (const char* bad_root : {"", "srv", "/srv/", "/srv/../etc", "/srv//u"}) {
    EXPECT_EQ(ResolveBeneath(bad_root, "/a").status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad_root;
  }
}

TEST(IsValidNameTest, Table) {
  for (const char* yes : {"a", "...", ".a", "a.", "a b", "\xc3\xa9"}) {
    EXPECT_TRUE(IsValidName(yes)) << yes;
  }
  for (const std::string& no :
       {std::string(""), std::string("."), std::string(".."),
        std::string("a/b"), std::string("/"), kNul}) {
    EXPECT_FALSE(IsValidName(no)) << no;
  }
}

}  // namespace
}  // namespace sftpgate
