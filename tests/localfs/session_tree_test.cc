// Unit tests of the resolution core (session_tree.h), in-process.

#include "session_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "backend_root.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"

namespace sftpgate::localfs::testing {
namespace {

TEST(ToRelativeTest, NormalizedPaths) {
  EXPECT_EQ(*ToRelative("/"), "");
  EXPECT_EQ(*ToRelative("/a"), "a");
  EXPECT_EQ(*ToRelative("/a/b c/d"), "a/b c/d");
}

TEST(ToRelativeTest, FoldsOtherPathsAndRefusesClimbingOut) {
  EXPECT_EQ(*ToRelative("//a/./b/"), "a/b");
  EXPECT_EQ(*ToRelative("/a/../b"), "b");
  EXPECT_EQ(ToRelative("/..").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ToRelative("/a/../../b").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ToRelative("a").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToRelative("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ToRelative(std::string("/a\0", 3)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

class SessionTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeDiskDir(dir_.Sub("s"));
    MakeDiskDir(dir_.Sub("s/d"));
    WriteDiskFile(dir_.Sub("s/d/f"), "x");
    auto root = BackendRoot::Open(dir_.path());
    ASSERT_TRUE(root.ok()) << root.status();
    auto tree = root->OpenSession("/s");
    ASSERT_TRUE(tree.ok()) << tree.status();
    tree_ = std::make_unique<SessionTree>(*std::move(tree));
  }

  // The name and lstat type of what `target` designates.
  static mode_t TypeOf(const Target& t) {
    struct stat st;
    if (::fstatat(t.dir.get(), t.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return 0;
    return st.st_mode & S_IFMT;
  }

  TempDir dir_;
  std::unique_ptr<SessionTree> tree_;
};

TEST_F(SessionTreeTest, LocateSplitsParentAndName) {
  auto root = tree_->Locate("", "t");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(root->is_self());
  auto f = tree_->Locate("d/f", "t");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->name, "f");
  EXPECT_EQ(TypeOf(*f), S_IFREG);
  // A missing final name is fine; a missing parent is not.
  EXPECT_TRUE(tree_->Locate("d/missing", "t").ok());
  EXPECT_TRUE(absl::IsNotFound(tree_->Locate("nope/x", "t").status()));
  // ".." as the last component means the directory it leads to, never a
  // ".." entry; above the root it is refused.
  auto up = tree_->Locate("d/..", "t");
  ASSERT_TRUE(up.ok()) << up.status();
  EXPECT_TRUE(up->is_self());
  EXPECT_TRUE(absl::IsPermissionDenied(tree_->Locate("d/../..", "t").status()));
  struct stat root_st, up_st;
  ASSERT_EQ(::fstat(tree_->root_fd(), &root_st), 0);
  ASSERT_EQ(::fstat(up->dir.get(), &up_st), 0);
  EXPECT_EQ(root_st.st_ino, up_st.st_ino);
}

TEST_F(SessionTreeTest, LocateFollowFollowsFinalLinks) {
  MakeDiskSymlink("d/f", dir_.Sub("s/rel"));
  MakeDiskSymlink("/rel", dir_.Sub("s/d/abs"));
  MakeDiskSymlink("/d/new", dir_.Sub("s/dangling"));
  MakeDiskSymlink("self", dir_.Sub("s/self"));
  auto t = tree_->LocateFollow("d/abs", "t");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->name, "f");
  EXPECT_EQ(TypeOf(*t), S_IFREG);
  auto d = tree_->LocateFollow("dangling", "t");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "new");
  EXPECT_EQ(TypeOf(*d), 0u);  // missing: may be created there
  EXPECT_TRUE(
      absl::IsPermissionDenied(tree_->LocateFollow("self", "t").status()));
  // Locate alone leaves the link.
  EXPECT_EQ(TypeOf(*tree_->Locate("rel", "t")), S_IFLNK);
}

TEST_F(SessionTreeTest, LinksResolveBeneathTheRootOrAreRefused) {
  MakeDiskSymlink("../d", dir_.Sub("s/d/sibling"));    // stays inside
  MakeDiskSymlink("/d/f", dir_.Sub("s/abs"));          // from the root
  MakeDiskSymlink("/../s/d/f", dir_.Sub("s/abs_up"));  // climbs, then back
  MakeDiskSymlink("..", dir_.Sub("s/up"));
  MakeDiskSymlink("d/../..", dir_.Sub("s/up2"));
  MakeDiskSymlink(dir_.Sub("s/d"), dir_.Sub("s/host"));  // a host path
  EXPECT_TRUE(tree_->Open("d/sibling/f", O_RDONLY, "t").ok());
  EXPECT_TRUE(tree_->Open("abs", O_RDONLY, "t").ok());
  for (const char* path :
       {"abs_up", "up", "up/s/d/f", "up2", "d/sibling/../../up"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(
        absl::IsPermissionDenied(tree_->Open(path, O_PATH, "t").status()));
  }
  // A host path is read in the session's view, where it does not exist.
  EXPECT_TRUE(absl::IsNotFound(tree_->Open("host/f", O_PATH, "t").status()));
  // Locate leaves a final link alone; LocateFollow refuses where it leads.
  EXPECT_TRUE(tree_->Locate("up", "t").ok());
  EXPECT_TRUE(
      absl::IsPermissionDenied(tree_->LocateFollow("up", "t").status()));
}

TEST_F(SessionTreeTest, ViewPathOfMapsBackToTheSessionView) {
  auto fd = tree_->Open("d/f", O_PATH, "t");
  ASSERT_TRUE(fd.ok());
  EXPECT_EQ(*tree_->ViewPathOf(fd->get(), "t"), "/d/f");
  EXPECT_EQ(*tree_->ViewPathOf(tree_->root_fd(), "t"), "/");
}

TEST(BackendRootTest, CreatesSessionRootsBeneathOnly) {
  TempDir dir;
  auto root = BackendRoot::Open(dir.path());
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(root->OpenSession("/a/b/c").ok());
  EXPECT_TRUE(DiskExists(dir.Sub("a/b/c")));
  MakeDiskSymlink("/", dir.Sub("out"));
  EXPECT_TRUE(absl::IsPermissionDenied(root->OpenSession("/out/x").status()));
  EXPECT_FALSE(DiskExists("/x"));
  EXPECT_TRUE(absl::IsPermissionDenied(root->OpenSession("/../x").status()));
}

// /proc/self/{root,cwd,exe,fd/N} are "magic links" that jump anywhere
// regardless of roots; RESOLVE_NO_MAGICLINKS makes the kernel refuse them.
// /proc is the one place they can be reached from without mounting one.
TEST(BackendRootTest, MagicLinksAreRefused) {
  auto root = BackendRoot::Open("/proc");
  ASSERT_TRUE(root.ok()) << root.status();
  // Our own /proc/PID (not /proc/self: a session root is never reached
  // through a symlink).
  EXPECT_TRUE(absl::IsPermissionDenied(root->OpenSession("/self").status()));
  auto tree = root->OpenSession(absl::StrCat("/", ::getpid()));
  ASSERT_TRUE(tree.ok()) << tree.status();
  for (const char* path : {"root/etc/hostname", "root", "cwd", "exe", "fd/0"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(
        absl::IsPermissionDenied(tree->Open(path, O_PATH, "t").status()));
  }
  // Plain files there are fine.
  EXPECT_TRUE(tree->Open("status", O_RDONLY, "t").ok());
}

}  // namespace
}  // namespace sftpgate::localfs::testing
