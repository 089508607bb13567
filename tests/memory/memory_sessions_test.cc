// Memory backend over gRPC: per-session roots and confinement, read-only
// sessions, capacity and StatFs; concurrent use.

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "memory_fixture.h"
#include "sftpgate/attributes.h"

namespace sftpgate::testing {
namespace {

using Names = std::vector<std::string>;

TEST_F(MemoryTest, SessionsWithDifferentRootsAreIsolated) {
  TestClient alice =
      ClientFor(SessionBuilder().User("alice").Root("/home/alice").Build());
  TestClient bob =
      ClientFor(SessionBuilder().User("bob").Root("/home/bob").Build());
  TestClient admin =
      ClientFor(SessionBuilder().User("admin").Root("/").Build());

  ASSERT_TRUE(alice.WriteFile("/secret", "alice's").ok());
  ASSERT_TRUE(bob.WriteFile("/notes", "bob's").ok());
  EXPECT_EQ(bob.Stat("/secret").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(alice.Stat("/notes").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*alice.ListNames("/"), Names{"secret"});
  EXPECT_EQ(*bob.ListNames("/"), Names{"notes"});
  // The roots were created on first use, inside the shared tree.
  EXPECT_EQ(*admin.ListNames("/home"), (Names{"alice", "bob"}));
  EXPECT_EQ(*admin.ReadFile("/home/alice/secret"), "alice's");
  EXPECT_EQ(*alice.RealPath("/secret"), "/secret");  // the session's view
}

TEST_F(MemoryTest, SymlinksCannotLeaveTheRoot) {
  TestClient admin = ClientFor(SessionBuilder().Root("/").Build());
  ASSERT_TRUE(admin.MakeDir("/home").ok());
  ASSERT_TRUE(admin.MakeDir("/home/bob").ok());
  ASSERT_TRUE(admin.WriteFile("/home/bob/f", "bob's").ok());
  ASSERT_TRUE(admin.WriteFile("/top-secret", "root's").ok());

  TestClient alice = ClientFor(SessionBuilder().Root("/home/alice").Build());
  ASSERT_TRUE(alice.MakeDir("/sub").ok());
  ASSERT_TRUE(alice.Symlink("/up", "../bob/f").ok());
  ASSERT_TRUE(alice.Symlink("/sub/deep", "../../../top-secret").ok());
  ASSERT_TRUE(alice.Symlink("/abs", "/top-secret").ok());
  ASSERT_TRUE(alice.Symlink("/sub/ok", "../sub").ok());

  EXPECT_EQ(alice.ReadFile("/up").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(alice.ReadFile("/sub/deep").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(alice.RealPath("/up").status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(alice.WriteFile("/up", "overwrite").status().code(),
            absl::StatusCode::kPermissionDenied);
  // An absolute target starts at the session root, not the tree's.
  EXPECT_EQ(alice.ReadFile("/abs").status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(alice.WriteFile("/abs", "mine").ok());  // creates alice's
  EXPECT_EQ(*admin.ReadFile("/top-secret"), "root's");
  EXPECT_EQ(*admin.ReadFile("/home/alice/top-secret"), "mine");
  EXPECT_EQ(*admin.ReadFile("/home/bob/f"), "bob's");
  EXPECT_EQ(*alice.RealPath("/sub/ok"), "/sub");
}

TEST_F(MemoryTest, DotDotInRequestPathsIsRefusedByTheHost) {
  TestClient alice = ClientFor(SessionBuilder().Root("/home/alice").Build());
  for (const char* path : {"/..", "/../bob", "/a/../../x"}) {
    EXPECT_EQ(alice.Stat(path).status().code(),
              absl::StatusCode::kInvalidArgument)
        << path;
    EXPECT_EQ(alice.WriteFile(path, "x").status().code(),
              absl::StatusCode::kInvalidArgument)
        << path;
  }
}

TEST_F(MemoryTest, ReadOnlySessionsCannotModify) {
  Put("/f", "data");
  ASSERT_TRUE(client().MakeDir("/d").ok());
  TestClient ro = ClientFor(SessionBuilder().ReadOnly().Build());
  const auto kDenied = absl::StatusCode::kPermissionDenied;
  EXPECT_EQ(ro.WriteFile("/f", "x").status().code(), kDenied);
  EXPECT_EQ(ro.WriteFile("/new", "x").status().code(), kDenied);
  EXPECT_EQ(ro.MakeDir("/d2").code(), kDenied);
  EXPECT_EQ(ro.RemoveDir("/d").code(), kDenied);
  EXPECT_EQ(ro.Remove("/f").code(), kDenied);
  EXPECT_EQ(ro.Rename("/f", "/g").code(), kDenied);
  EXPECT_EQ(ro.SetStat("/f", Attributes()).code(), kDenied);
  EXPECT_EQ(ro.SetStat("/f", Attributes(), false).code(), kDenied);
  EXPECT_EQ(ro.Symlink("/l", "f").code(), kDenied);
  EXPECT_EQ(ro.Link("/f", "/h").code(), kDenied);
  // Reading works.
  EXPECT_EQ(*ro.ReadFile("/f"), "data");
  EXPECT_EQ(*ro.ListNames("/"), (Names{"d", "f"}));
  EXPECT_EQ(ro.StatFs("/")->flags() & 1, 1u);
  EXPECT_EQ(Get("/f"), "data");
}

TEST_F(MemoryTest, CapacityAndStatFs) {
  memory::MemoryBackendOptions options = Defaults();
  options.capacity = 1024 * 1024;
  options.max_inodes = 10;
  Start(options);
  v1::StatFsResponse fs = *client().StatFs("/");
  EXPECT_EQ(fs.block_size(), 4096u);
  EXPECT_EQ(fs.blocks(), 256u);
  EXPECT_EQ(fs.blocks_free(), 256u);
  EXPECT_EQ(fs.files(), 10u);
  EXPECT_EQ(fs.max_name_length(), 255u);
  EXPECT_EQ(fs.flags(), 0u);
  const uint64_t files_free = fs.files_free();

  Put("/a", std::string(100 * 1024, 'a'));
  fs = *client().StatFs("/");
  EXPECT_EQ(fs.blocks_free(), 256u - 25);
  EXPECT_EQ(fs.blocks_available(), fs.blocks_free());
  EXPECT_EQ(fs.files_free(), files_free - 1);

  // Past capacity: refused, and the failed upload leaves nothing.
  EXPECT_EQ(
      client().WriteFile("/b", std::string(1000 * 1024, 'b')).status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client().Stat("/b").status().code(), absl::StatusCode::kNotFound);
  Attributes huge;
  huge.set_size(uint64_t{1} << 40);
  EXPECT_EQ(client().SetStat("/a", huge).code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client().Stat("/a")->size(), 100u * 1024);

  // Removing frees the space.
  ASSERT_TRUE(client().Remove("/a").ok());
  Put("/b", std::string(1000 * 1024, 'b'));
  EXPECT_EQ(client().StatFs("/")->blocks_free(), 6u);

  // The inode limit.
  absl::Status status;
  for (int i = 0; i < 20 && status.ok(); ++i) {
    status = client().MakeDir(absl::StrCat("/d", i));
  }
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(client().StatFs("/")->files_free(), 0u);
  EXPECT_EQ(client().StatFs("/nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MemoryTest, ConcurrentClients) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      TestClient c =
          ClientFor(SessionBuilder().Root(absl::StrCat("/t", t % 2)).Build());
      const std::string dir = absl::StrCat("/w", t);
      if (!c.MakeDir(dir).ok()) failures[t] = "mkdir";
      for (int r = 0; r < kRounds && failures[t].empty(); ++r) {
        const std::string data = Pattern(10000 + r * 100, t * 31 + r);
        const std::string tmp = absl::StrCat(dir, "/tmp");
        const std::string final_path = absl::StrCat(dir, "/f", r % 3);
        WriteOptions options;
        options.chunk_size = 4096;
        if (!c.WriteFile(tmp, data, options).ok()) failures[t] = "write";
        if (!c.Rename(tmp, final_path, true).ok()) failures[t] = "rename";
        absl::StatusOr<std::string> back = c.ReadFile(final_path);
        if (!back.ok() || *back != data) failures[t] = "read back";
        if (!c.ListDir(dir).ok()) failures[t] = "list";
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << t;
  TestClient admin = ClientFor(SessionBuilder().Root("/").Build());
  EXPECT_EQ(*admin.ListNames("/t0"), (Names{"w0", "w2", "w4", "w6"}));
}

}  // namespace
}  // namespace sftpgate::testing
