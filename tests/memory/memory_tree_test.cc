// Memory backend over gRPC: directories, renames, symlinks, hard links,
// realpath and large listings.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "memory_fixture.h"
#include "sftpgate/attributes.h"

namespace sftpgate::testing {
namespace {

using Names = std::vector<std::string>;

TEST_F(MemoryTest, MakeAndRemoveDirectories) {
  ASSERT_TRUE(client().MakeDir("/a").ok());
  ASSERT_TRUE(client().MakeDir("/a/b").ok());
  EXPECT_EQ(client().MakeDir("/a").code(), absl::StatusCode::kAlreadyExists);
  Put("/a/b/f", "x");
  EXPECT_EQ(client().MakeDir("/a/b/f").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(client().RemoveDir("/a").code(),
            absl::StatusCode::kFailedPrecondition);  // not empty
  EXPECT_EQ(client().RemoveDir("/a/b/f").code(),
            absl::StatusCode::kFailedPrecondition);  // not a directory
  EXPECT_EQ(client().Remove("/a/b").code(),
            absl::StatusCode::kFailedPrecondition);  // a directory
  EXPECT_EQ(client().RemoveDir("/").code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(client().Remove("/a/b/f").ok());
  ASSERT_TRUE(client().RemoveDir("/a/b").ok());
  EXPECT_EQ(client().Stat("/a")->nlink(), 2u);
  ASSERT_TRUE(client().RemoveDir("/a").ok());
  EXPECT_TRUE(client().ListNames("/")->empty());
}

TEST_F(MemoryTest, RenameFiles) {
  Put("/a", "A");
  Put("/b", "B");
  ASSERT_TRUE(client().Rename("/a", "/c").ok());
  EXPECT_EQ(client().Stat("/a").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Get("/c"), "A");

  // Onto an existing file: refused without overwrite, nothing changes.
  EXPECT_EQ(client().Rename("/c", "/b").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Get("/b"), "B");
  EXPECT_EQ(Get("/c"), "A");
  // With overwrite (posix-rename) it replaces the target.
  ASSERT_TRUE(client().Rename("/c", "/b", true).ok());
  EXPECT_EQ(Get("/b"), "A");
  EXPECT_EQ(*client().ListNames("/"), Names{"b"});

  // Onto itself: success, no change.
  ASSERT_TRUE(client().Rename("/b", "/b").ok());
  ASSERT_TRUE(client().Rename("/b", "/b", true).ok());
  EXPECT_EQ(Get("/b"), "A");

  // A file onto a directory and the reverse.
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().Rename("/b", "/d", true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client().Rename("/d", "/b", true).code(),
            absl::StatusCode::kFailedPrecondition);
  // Into a directory.
  ASSERT_TRUE(client().Rename("/b", "/d/b").ok());
  EXPECT_EQ(Get("/d/b"), "A");
}

TEST_F(MemoryTest, RenameDirectories) {
  ASSERT_TRUE(client().MakeDir("/src").ok());
  ASSERT_TRUE(client().MakeDir("/src/sub").ok());
  Put("/src/sub/f", "deep");
  ASSERT_TRUE(client().MakeDir("/other").ok());

  // A whole tree moves.
  ASSERT_TRUE(client().Rename("/src", "/other/moved").ok());
  EXPECT_EQ(Get("/other/moved/sub/f"), "deep");
  EXPECT_EQ(client().Stat("/src").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client().Stat("/other")->nlink(), 3u);
  EXPECT_EQ(client().Stat("/")->nlink(), 3u);  // only /other remains

  // Beneath itself.
  EXPECT_EQ(client().Rename("/other", "/other/moved/sub/x").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().Rename("/other/moved", "/other/moved/y").code(),
            absl::StatusCode::kInvalidArgument);

  // Onto an existing empty directory: only with overwrite.
  ASSERT_TRUE(client().MakeDir("/empty").ok());
  EXPECT_EQ(client().Rename("/other/moved", "/empty").code(),
            absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(client().Rename("/other/moved", "/empty", true).ok());
  EXPECT_EQ(Get("/empty/sub/f"), "deep");

  // Onto a non-empty directory: never.
  ASSERT_TRUE(client().MakeDir("/full").ok());
  Put("/full/x", "x");
  EXPECT_EQ(client().Rename("/empty", "/full", true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get("/full/x"), "x");
  EXPECT_EQ(Get("/empty/sub/f"), "deep");

  // The session root cannot move.
  EXPECT_EQ(client().Rename("/", "/elsewhere").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(MemoryTest, Symlinks) {
  ASSERT_TRUE(client().MakeDir("/dir").ok());
  Put("/dir/file", "content");
  ASSERT_TRUE(client().Symlink("/rel", "dir/file").ok());
  ASSERT_TRUE(client().Symlink("/abs", "/dir/file").ok());
  ASSERT_TRUE(client().Symlink("/dir/up", "../dir/./file").ok());
  ASSERT_TRUE(client().Symlink("/dirlink", "dir").ok());
  ASSERT_TRUE(client().Symlink("/dangling", "missing").ok());

  EXPECT_EQ(Get("/rel"), "content");
  EXPECT_EQ(Get("/abs"), "content");
  EXPECT_EQ(Get("/dir/up"), "content");
  EXPECT_EQ(Get("/dirlink/file"), "content");  // a link in the middle
  EXPECT_EQ(*client().ReadLink("/dir/up"), "../dir/./file");  // verbatim
  EXPECT_EQ(*client().ReadLink("/abs"), "/dir/file");

  EXPECT_EQ(client().Stat("/dangling").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(IsSymlink(*client().Lstat("/dangling")));
  EXPECT_EQ(client().ReadLink("/dir/file").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client().Symlink("/rel", "x").code(),
            absl::StatusCode::kAlreadyExists);

  // Removing a link removes the link, not its target.
  ASSERT_TRUE(client().Remove("/rel").ok());
  EXPECT_EQ(Get("/dir/file"), "content");
  // RemoveDir on a link to a directory refuses (not a directory itself).
  EXPECT_EQ(client().RemoveDir("/dirlink").code(),
            absl::StatusCode::kFailedPrecondition);

  // Listing describes links as links.
  auto listing = client().ListDir("/");
  ASSERT_TRUE(listing.ok());
  for (const DirEntry& e : listing->entries) {
    if (e.name() == "abs") {
      EXPECT_TRUE(IsSymlink(e.attributes()));
    } else if (e.name() == "dir") {
      EXPECT_TRUE(IsDirectory(e.attributes()));
    }
  }
}

TEST_F(MemoryTest, SymlinkLoopsAndLimits) {
  ASSERT_TRUE(client().Symlink("/a", "b").ok());
  ASSERT_TRUE(client().Symlink("/b", "a").ok());
  EXPECT_EQ(client().Stat("/a").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(client().Lstat("/a").ok());
  ASSERT_TRUE(client().Symlink("/self", "self/x").ok());
  EXPECT_EQ(client().Stat("/self").status().code(),
            absl::StatusCode::kFailedPrecondition);

  // A chain of exactly 40 links resolves; 41 do not.
  Put("/end", "end");
  ASSERT_TRUE(client().Symlink("/l40", "end").ok());
  for (int i = 39; i >= 0; --i) {
    ASSERT_TRUE(
        client().Symlink(absl::StrCat("/l", i), absl::StrCat("l", i + 1)).ok());
  }
  EXPECT_EQ(Get("/l1"), "end");  // 40 links
  EXPECT_EQ(client().Stat("/l0").status().code(),
            absl::StatusCode::kFailedPrecondition);  // 41 links
}

TEST_F(MemoryTest, RealPath) {
  ASSERT_TRUE(client().MakeDir("/a").ok());
  ASSERT_TRUE(client().MakeDir("/a/b").ok());
  ASSERT_TRUE(client().Symlink("/link", "a/b").ok());
  ASSERT_TRUE(client().Symlink("/a/b/up", "..").ok());
  ASSERT_TRUE(client().Symlink("/top", "/").ok());
  EXPECT_EQ(*client().RealPath("/"), "/");
  EXPECT_EQ(*client().RealPath("/a/b"), "/a/b");
  EXPECT_EQ(*client().RealPath("/link"), "/a/b");
  EXPECT_EQ(*client().RealPath("/link/up"), "/a");
  EXPECT_EQ(*client().RealPath("/link/new"),
            "/a/b/new");  // last may be missing
  EXPECT_EQ(*client().RealPath("/top"), "/");
  EXPECT_EQ(*client().RealPath("/top/a"), "/a");
  EXPECT_EQ(client().RealPath("/missing/x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(client().Describe()->real_path());
}

TEST_F(MemoryTest, HardLinks) {
  Put("/f", "one");
  ASSERT_TRUE(client().Link("/f", "/g").ok());
  EXPECT_EQ(client().Stat("/f")->nlink(), 2u);
  EXPECT_EQ(client().Stat("/g")->nlink(), 2u);
  Put("/g", "two");  // writes into the shared file
  EXPECT_EQ(Get("/f"), "two");
  EXPECT_EQ(client().Link("/f", "/g").code(), absl::StatusCode::kAlreadyExists);
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().Link("/d", "/d2").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client().Link("/nope", "/x").code(), absl::StatusCode::kNotFound);

  // rename(2) between two names of one file does nothing.
  ASSERT_TRUE(client().Rename("/f", "/g", true).ok());
  EXPECT_EQ(Get("/f"), "two");
  EXPECT_EQ(Get("/g"), "two");

  ASSERT_TRUE(client().Remove("/f").ok());
  EXPECT_EQ(client().Stat("/g")->nlink(), 1u);
  EXPECT_EQ(Get("/g"), "two");
  EXPECT_TRUE(client().Describe()->hard_links());
}

TEST_F(MemoryTest, LargeDirectoryListsInBatches) {
  ServeOptions serve;
  serve.list_batch_size = 100;
  Start(Defaults(), serve);
  ASSERT_TRUE(client().MakeDir("/big").ok());
  std::set<std::string> expected;
  for (int i = 0; i < 1050; ++i) {
    std::string name = absl::StrCat("file-", i);
    Put("/big/" + name, std::to_string(i));
    expected.insert(name);
  }
  ASSERT_TRUE(client().MakeDir("/big/subdir").ok());
  expected.insert("subdir");

  absl::StatusOr<Listing> listing = client().ListDir("/big");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->messages, 11);  // ceil(1051 / 100)
  std::set<std::string> seen;
  for (const DirEntry& e : listing->entries) {
    EXPECT_TRUE(seen.insert(e.name()).second) << "duplicate " << e.name();
    if (e.name() == "subdir") {
      EXPECT_TRUE(IsDirectory(e.attributes()));
    } else {
      EXPECT_TRUE(IsRegular(e.attributes()));
      EXPECT_EQ(e.attributes().size(), e.name().size() - 5);
    }
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(client().ListDir("/big/file-1").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace sftpgate::testing
