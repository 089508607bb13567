#include "sftpgate/attributes.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "gtest/gtest.h"

namespace sftpgate {
namespace {

TEST(AttributesTest, TypeConstantsMatchPosix) {
  EXPECT_EQ(kModeRegular, static_cast<uint32_t>(S_IFREG));
  EXPECT_EQ(kModeDirectory, static_cast<uint32_t>(S_IFDIR));
  EXPECT_EQ(kModeSymlink, static_cast<uint32_t>(S_IFLNK));
  EXPECT_EQ(kModeTypeMask, static_cast<uint32_t>(S_IFMT));
}

TEST(AttributesTest, FromStatOfRealObjects) {
  char dir_template[] = "/tmp/sftpgate-attrs-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string file = dir + "/f";
  const std::string link = dir + "/l";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("hello", f);
  std::fclose(f);
  ASSERT_EQ(chmod(file.c_str(), 0640), 0);
  ASSERT_EQ(symlink("f", link.c_str()), 0);

  struct stat st;
  ASSERT_EQ(lstat(file.c_str(), &st), 0);
  Attributes a = AttributesFromStat(st);
  EXPECT_TRUE(IsRegular(a));
  EXPECT_FALSE(IsDirectory(a));
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(a.mode() & kModePermissionMask, 0640u);
  EXPECT_EQ(a.uid(), getuid());
  EXPECT_EQ(a.gid(), st.st_gid);
  EXPECT_EQ(a.mtime(), st.st_mtime);
  EXPECT_EQ(a.atime(), st.st_atime);
  EXPECT_EQ(a.nlink(), 1u);

  ASSERT_EQ(lstat(link.c_str(), &st), 0);
  a = AttributesFromStat(st);
  EXPECT_TRUE(IsSymlink(a));
  EXPECT_EQ(a.size(), 1u);  // length of "f"

  ASSERT_EQ(lstat(dir.c_str(), &st), 0);
  a = AttributesFromStat(st);
  EXPECT_TRUE(IsDirectory(a));
  EXPECT_EQ(FileType(a), kModeDirectory);

  unlink(link.c_str());
  unlink(file.c_str());
  rmdir(dir.c_str());
}

TEST(AttributesTest, Makers) {
  Attributes f = MakeFileAttributes(42, 0100644, 1000);
  EXPECT_EQ(f.mode(), 0100644u);
  EXPECT_EQ(f.size(), 42u);
  EXPECT_EQ(f.mtime(), 1000);
  EXPECT_EQ(f.atime(), 1000);
  EXPECT_EQ(f.nlink(), 1u);

  Attributes d = MakeDirectoryAttributes(0755, 7);
  EXPECT_TRUE(IsDirectory(d));
  EXPECT_EQ(d.mode(), 040755u);
  EXPECT_EQ(d.nlink(), 2u);

  Attributes l = MakeSymlinkAttributes(3, 7);
  EXPECT_TRUE(IsSymlink(l));
  EXPECT_EQ(l.mode(), 0120777u);
  EXPECT_EQ(l.size(), 3u);
}

TEST(AttributesTest, UnsetModeHasNoType) {
  Attributes empty;
  EXPECT_EQ(FileType(empty), 0u);
  EXPECT_FALSE(IsRegular(empty));
  EXPECT_FALSE(IsDirectory(empty));
  EXPECT_FALSE(IsSymlink(empty));
  EXPECT_EQ(PermissionsOr(empty, 0755), 0755u);
  Attributes with_mode;
  with_mode.set_mode(0104711);
  EXPECT_EQ(PermissionsOr(with_mode, 0755), 04711u);
}

}  // namespace
}  // namespace sftpgate
