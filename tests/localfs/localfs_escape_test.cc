// Confinement of the localfs backend: a table of escape attempts (".." in
// every position, absolute and relative symlinks out of the root or into a
// sibling's, chains, loops, dangling links, links planted on disk, renames
// and hard links across the boundary, every operation through such links,
// hostile session roots), each of which must be refused with
// PERMISSION_DENIED or NOT_FOUND while nothing outside the session's root
// changes; plus a race in which a directory is swapped with a symlink to
// the outside while requests go through it.
//
// Links are followed beneath the session root: an absolute target is read
// relative to it, and a link that climbs above it is refused
// (PERMISSION_DENIED); a host path as a target names nothing there
// (NOT_FOUND).
//
// The table runs twice: over a real gRPC channel, and directly against the
// Backend object. The direct run matters for ".." paths: over gRPC the SDK
// host already refuses non-normalized paths (INVALID_ARGUMENT), which would
// hide a backend that does not.

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"

namespace sftpgate::localfs::testing {
namespace {

constexpr char kSecret[] = "OUTSIDE SECRET";

// The operations the attempts use, served either over gRPC or directly.
class Ops {
 public:
  virtual ~Ops() = default;
  virtual absl::Status Stat(const std::string& path, bool follow) = 0;
  virtual absl::StatusOr<std::string> Read(const std::string& path) = 0;
  virtual absl::Status Write(const std::string& path,
                             const std::string& data) = 0;
  virtual absl::StatusOr<std::vector<std::string>> List(
      const std::string& path) = 0;
  virtual absl::Status MakeDir(const std::string& path) = 0;
  virtual absl::Status Remove(const std::string& path) = 0;
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to,
                              bool overwrite) = 0;
  virtual absl::Status SetStat(const std::string& path, const Attributes& a,
                               bool follow) = 0;
  virtual absl::Status Symlink(const std::string& link,
                               const std::string& target) = 0;
  virtual absl::Status Link(const std::string& existing,
                            const std::string& added) = 0;
  virtual absl::StatusOr<std::string> RealPath(const std::string& path) = 0;
  virtual absl::StatusOr<std::string> ReadLink(const std::string& path) = 0;
  virtual absl::Status StatFs(const std::string& path) = 0;
};

class GrpcOps : public Ops {
 public:
  explicit GrpcOps(TestClient client) : c_(std::move(client)) {}
  absl::Status Stat(const std::string& p, bool follow) override {
    return c_.Stat(p, follow).status();
  }
  absl::StatusOr<std::string> Read(const std::string& p) override {
    return c_.ReadFile(p);
  }
  absl::Status Write(const std::string& p, const std::string& d) override {
    return c_.WriteFile(p, d).status();
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& p) override {
    return c_.ListNames(p);
  }
  absl::Status MakeDir(const std::string& p) override { return c_.MakeDir(p); }
  absl::Status Remove(const std::string& p) override { return c_.Remove(p); }
  absl::Status RemoveDir(const std::string& p) override {
    return c_.RemoveDir(p);
  }
  absl::Status Rename(const std::string& f, const std::string& t,
                      bool o) override {
    return c_.Rename(f, t, o);
  }
  absl::Status SetStat(const std::string& p, const Attributes& a,
                       bool follow) override {
    return c_.SetStat(p, a, follow);
  }
  absl::Status Symlink(const std::string& l, const std::string& t) override {
    return c_.Symlink(l, t);
  }
  absl::Status Link(const std::string& e, const std::string& a) override {
    return c_.Link(e, a);
  }
  absl::StatusOr<std::string> RealPath(const std::string& p) override {
    return c_.RealPath(p);
  }
  absl::StatusOr<std::string> ReadLink(const std::string& p) override {
    return c_.ReadLink(p);
  }
  absl::Status StatFs(const std::string& p) override {
    return c_.StatFs(p).status();
  }

 private:
  TestClient c_;
};

class DirectOps : public Ops {
 public:
  DirectOps(Backend* backend, Session session)
      : b_(backend), s_(std::move(session)) {}
  absl::Status Stat(const std::string& p, bool follow) override {
    return b_->Stat(s_, p, follow).status();
  }
  absl::StatusOr<std::string> Read(const std::string& p) override {
    auto reader = b_->OpenRead(s_, p, 0);
    if (!reader.ok()) return reader.status();
    std::string all, chunk;
    do {
      absl::Status st = (*reader)->Read(65536, &chunk);
      if (!st.ok()) return st;
      all += chunk;
    } while (!chunk.empty());
    return all;
  }
  absl::Status Write(const std::string& p, const std::string& d) override {
    WriteHeader header = MakeWriteHeader(p);
    auto writer = b_->OpenWrite(s_, header);
    if (!writer.ok()) return writer.status();
    absl::Status st = (*writer)->Write(0, d);
    if (!st.ok()) {
      (*writer)->Abort();
      return st;
    }
    return (*writer)->Commit().status();
  }
  absl::StatusOr<std::vector<std::string>> List(const std::string& p) override {
    std::vector<std::string> names;
    absl::Status st = b_->ListDir(s_, p, [&](DirEntry e) {
      names.push_back(e.name());
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    return names;
  }
  absl::Status MakeDir(const std::string& p) override {
    return b_->MakeDir(s_, p, Attributes());
  }
  absl::Status Remove(const std::string& p) override {
    return b_->Remove(s_, p);
  }
  absl::Status RemoveDir(const std::string& p) override {
    return b_->RemoveDir(s_, p);
  }
  absl::Status Rename(const std::string& f, const std::string& t,
                      bool o) override {
    return b_->Rename(s_, f, t, o);
  }
  absl::Status SetStat(const std::string& p, const Attributes& a,
                       bool follow) override {
    return follow ? b_->SetStat(s_, p, a) : b_->SetStatNoFollow(s_, p, a);
  }
  absl::Status Symlink(const std::string& l, const std::string& t) override {
    return b_->Symlink(s_, l, t);
  }
  absl::Status Link(const std::string& e, const std::string& a) override {
    return b_->Link(s_, e, a);
  }
  absl::StatusOr<std::string> RealPath(const std::string& p) override {
    return b_->RealPath(s_, p);
  }
  absl::StatusOr<std::string> ReadLink(const std::string& p) override {
    return b_->ReadLink(s_, p);
  }
  absl::Status StatFs(const std::string& p) override {
    return b_->StatFs(s_, p).status();
  }

 private:
  Backend* b_;
  Session s_;
};

struct Attempt {
  std::string name;
  // Session root of the attempt ("/alice" for most).
  std::string session_root;
  // True when the path itself is not normalized (".."): the SDK host may
  // refuse it with INVALID_ARGUMENT before the backend sees it.
  bool lexical;
  std::function<absl::Status(Ops&)> run;
};

// Layout (base = a fresh temporary directory):
//   base/outside/secret, base/outside/victim/file, base/outside/data
//   base/root/                 the backend root
//   base/root/bob/bobfile      a sibling session's root
//   base/root/evil_abs -> base/outside,  base/root/evil_rel -> ../outside
//   base/root/alice/           the attacker's session root, with links
//                              planted on disk (see SetUp)
class EscapeTest : public LocalFsTest {
 protected:
  void SetUp() override {
    LocalFsTest::SetUp();
    outside_ = base().Sub("outside");
    alice_ = Disk("/alice");
    MakeDiskDir(outside_);
    WriteDiskFile(outside_ + "/secret", kSecret);
    WriteDiskFile(outside_ + "/data", kSecret);
    MakeDiskDir(outside_ + "/victim");
    WriteDiskFile(outside_ + "/victim/file", kSecret);
    MakeDiskDir(Disk("/bob"));
    WriteDiskFile(Disk("/bob/bobfile"), "bob's");
    MakeDiskSymlink(outside_, Disk("/evil_abs"));
    MakeDiskSymlink("../outside", Disk("/evil_rel"));

    MakeDiskDir(alice_);
    WriteDiskFile(alice_ + "/mine", "alice's");
    MakeDiskDir(alice_ + "/sub");
    const std::vector<std::pair<std::string, std::string>> links = {
        {"abs_outside", outside_},
        {"abs_secret", outside_ + "/secret"},
        {"rel_up", "../../outside"},
        {"rel_up_secret", "../../outside/secret"},
        {"sub/deep_up", "../../../outside"},
        {"sub/dotdot_chain", "../sub/../../../../outside"},
        {"to_slash", "/"},
        {"to_dotdot", ".."},
        {"to_bob", "../bob"},
        {"to_bob_rooted", "/../bob"},
        {"to_bob_abs", Disk("/bob")},
        {"chain1", "chain2"},
        {"chain2", "sub/chain3"},
        {"sub/chain3", "../rel_up"},
        {"loop_a", "loop_b"},
        {"loop_b", "loop_a"},
        {"proc_root", "/proc/self/root"},
        {"proc_abs_root", "/proc/1/root/"},
        {"dangling_out", outside_ + "/newfile"},
        {"rel_dangling_out", "../../outside/newfile"},
        {"deep_dangling", "sub/../../../outside/newfile"},
    };
    for (const auto& [name, target] : links) {
      MakeDiskSymlink(target, alice_ + "/" + name);
    }
    before_ = SnapshotTree(base().path(), alice_);
  }

  // Runs every attempt through `ops_for(session root)`; each must be
  // refused, and nothing outside alice's root may change.
  void RunTable(
      const std::function<std::unique_ptr<Ops>(const std::string&)>& ops_for,
      bool over_grpc) {
    const std::vector<Attempt> attempts = Attempts();
    ASSERT_GE(attempts.size(), 30u);
    for (const Attempt& attempt : attempts) {
      SCOPED_TRACE(attempt.name);
      std::unique_ptr<Ops> ops = ops_for(attempt.session_root);
      absl::Status status = attempt.run(*ops);
      const bool refused =
          absl::IsPermissionDenied(status) || absl::IsNotFound(status) ||
          (over_grpc && attempt.lexical && absl::IsInvalidArgument(status));
      EXPECT_TRUE(refused) << attempt.name << " gave " << status;
      // Messages name request paths only, never the backend's own.
      EXPECT_FALSE(absl::StrContains(status.message(), root()))
          << "host path leaked: " << status;
      EXPECT_EQ(SnapshotTree(base().path(), alice_), before_)
          << attempt.name << " changed something outside the root";
    }
    EXPECT_EQ(ReadDiskFile(outside_ + "/secret"), kSecret);
  }

  std::vector<Attempt> Attempts() const {
    const std::string a = "/alice";
    const std::string host_secret = outside_ + "/secret";
    Attributes chmod;
    chmod.set_mode(0777);
    Attributes truncate;
    truncate.set_size(0);
    Attributes times;
    times.set_mtime(1);
    // Reads must be refused; a read that works and returns outside data is
    // reported as such.
    auto read = [](std::string path) {
      return [path](Ops& ops) -> absl::Status {
        absl::StatusOr<std::string> got = ops.Read(path);
        if (got.ok()) {
          return absl::InternalError(
              absl::StrCat("read returned \"", *got, "\""));
        }
        return got.status();
      };
    };
    auto list = [](std::string path) {
      return [path](Ops& ops) -> absl::Status {
        auto got = ops.List(path);
        if (got.ok()) {
          return absl::InternalError(
              absl::StrCat("listed ", got->size(), " entries"));
        }
        return got.status();
      };
    };
    auto write = [](std::string path) {
      return [path](Ops& ops) { return ops.Write(path, "planted"); };
    };
    using O = Ops&;
    return {
        // ".." in every position of the request path.
        {"stat /..", a, true, [](O o) { return o.Stat("/..", true); }},
        {"lstat /../", a, true, [](O o) { return o.Stat("/../", false); }},
        {"read /../bob/bobfile", a, true, read("/../bob/bobfile")},
        {"read /sub/../../bob/bobfile", a, true,
         read("/sub/../../bob/bobfile")},
        {"read /sub/../..", a, true, read("/sub/../..")},
        {"list /..", a, true, list("/..")},
        {"write /../../outside/new", a, true, write("/../../outside/new")},
        {"mkdir /sub/../../../outside/made", a, true,
         [](O o) { return o.MakeDir("/sub/../../../outside/made"); }},
        {"rename /mine -> /../stolen", a, true,
         [](O o) { return o.Rename("/mine", "/../stolen", false); }},
        {"rename /../bob/bobfile -> /stolen", a, true,
         [](O o) { return o.Rename("/../bob/bobfile", "/stolen", false); }},
        {"remove /../bob/bobfile", a, true,
         [](O o) { return o.Remove("/../bob/bobfile"); }},
        {"rmdir /../../outside/victim", a, true,
         [](O o) { return o.RemoveDir("/../../outside/victim"); }},
        {"link /../bob/bobfile -> /hard", a, true,
         [](O o) { return o.Link("/../bob/bobfile", "/hard"); }},
        // Symlinks out of the root: absolute, relative, via "/", chains.
        {"read absolute link to outside file", a, false, read("/abs_secret")},
        {"read through absolute link to outside dir", a, false,
         read("/abs_outside/secret")},
        {"read through relative link climbing out", a, false,
         read("/rel_up/secret")},
        {"read relative link to outside file", a, false,
         read("/rel_up_secret")},
        {"read through deeper relative link", a, false,
         read("/sub/deep_up/secret")},
        {"read through link with .. inside its target", a, false,
         read("/sub/dotdot_chain/secret")},
        {"read host path through link to /", a, false,
         read("/to_slash" + host_secret)},
        {"read through link to ..", a, false, read("/to_dotdot/bob/bobfile")},
        {"read sibling root through relative link", a, false,
         read("/to_bob/bobfile")},
        {"read sibling root through /../ link", a, false,
         read("/to_bob_rooted/bobfile")},
        {"read sibling root through absolute link", a, false,
         read("/to_bob_abs/bobfile")},
        {"read through a chain of links", a, false, read("/chain1/secret")},
        {"stat a symlink loop", a, false,
         [](O o) { return o.Stat("/loop_a", true); }},
        {"read through /proc/self/root", a, false,
         read("/proc_root/etc/hostname")},
        {"read through /proc/1/root", a, false,
         read("/proc_abs_root/etc/hostname")},
        // Listing through links.
        {"list absolute link to outside", a, false, list("/abs_outside")},
        {"list relative link climbing out", a, false, list("/rel_up")},
        {"list sibling root", a, false, list("/to_bob")},
        {"list through a chain", a, false, list("/chain1")},
        // Writes through links, dangling ones included.
        {"write through final absolute link", a, false, write("/abs_secret")},
        {"write through final relative link", a, false,
         write("/rel_up_secret")},
        {"write into linked outside dir", a, false, write("/rel_up/new")},
        {"write dangling absolute link", a, false, write("/dangling_out")},
        {"write dangling relative link", a, false, write("/rel_dangling_out")},
        {"write dangling link with ..", a, false, write("/deep_dangling")},
        {"write sibling root", a, false, write("/to_bob/bobfile")},
        // mkdir / remove / rmdir / setstat through links.
        {"mkdir in linked outside dir", a, false,
         [](O o) { return o.MakeDir("/abs_outside/made"); }},
        {"mkdir via relative link", a, false,
         [](O o) { return o.MakeDir("/rel_up/made"); }},
        {"remove via absolute link", a, false,
         [](O o) { return o.Remove("/abs_outside/secret"); }},
        {"remove via relative link", a, false,
         [](O o) { return o.Remove("/rel_up/secret"); }},
        {"rmdir via relative link", a, false,
         [](O o) { return o.RemoveDir("/rel_up/victim"); }},
        {"chmod through final link", a, false,
         [chmod](O o) { return o.SetStat("/abs_secret", chmod, true); }},
        {"truncate through final link", a, false,
         [truncate](O o) {
           return o.SetStat("/rel_up_secret", truncate, true);
         }},
        {"touch via linked dir", a, false,
         [times](O o) { return o.SetStat("/rel_up/secret", times, true); }},
        {"lsetstat via linked dir", a, false,
         [times](O o) {
           return o.SetStat("/abs_outside/secret", times, false);
         }},
        // Renames and hard links across the boundary.
        {"rename outside file in", a, false,
         [](O o) { return o.Rename("/rel_up/secret", "/stolen", false); }},
        {"rename own file out", a, false,
         [](O o) { return o.Rename("/mine", "/abs_outside/planted", false); }},
        {"rename own file over outside file", a, false,
         [](O o) { return o.Rename("/mine", "/rel_up/secret", true); }},
        {"rename sibling's file in", a, false,
         [](O o) { return o.Rename("/to_bob/bobfile", "/stolen", true); }},
        {"hard link outside file in", a, false,
         [](O o) { return o.Link("/rel_up/secret", "/hard"); }},
        {"hard link own file out", a, false,
         [](O o) { return o.Link("/mine", "/abs_outside/hard"); }},
        {"symlink created in outside dir", a, false,
         [](O o) { return o.Symlink("/abs_outside/newlink", "x"); }},
        // Other operations through links.
        {"readlink in outside dir", a, false,
         [](O o) { return o.ReadLink("/rel_up/x").status(); }},
        {"realpath in outside dir", a, false,
         [](O o) { return o.RealPath("/abs_outside/secret").status(); }},
        {"statfs via link", a, false,
         [](O o) { return o.StatFs("/abs_outside"); }},
        // Hostile session roots.
        {"session root with ..", "/../outside", true, read("/secret")},
        {"session root climbing out", "/bob/../../outside", true,
         read("/secret")},
        {"session root is an absolute link out", "/evil_abs", false,
         read("/secret")},
        {"session root is a relative link out", "/evil_rel", false,
         read("/secret")},
        {"session root beneath a link out", "/evil_rel/victim", false,
         read("/file")},
        // Links that stay inside the store must not redirect a session
        // root either: alice planted them, another user's root names them.
        {"session root is a link to a sibling's root", "/alice/to_bob", false,
         read("/bobfile")},
        {"session root passes through a link inside the store",
         "/alice/to_dotdot/bob", false, read("/bobfile")},
        {"session root to be created beneath a link", "/alice/to_bob/new",
         false, write("/planted")},
    };
  }

  std::string outside_;
  std::string alice_;
  std::map<std::string, std::string> before_;
};

TEST_F(EscapeTest, EveryAttemptIsRefusedOverGrpc) {
  RunTable(
      [&](const std::string& session_root) {
        return std::make_unique<GrpcOps>(ClientFor(
            SessionBuilder().User("alice").Root(session_root).Build()));
      },
      /*over_grpc=*/true);
}

TEST_F(EscapeTest, EveryAttemptIsRefusedByTheBackendItself) {
  absl::StatusOr<BackendRoot> root = BackendRoot::Open(this->root());
  ASSERT_TRUE(root.ok()) << root.status();
  LocalFsBackend backend(*std::move(root));
  RunTable(
      [&](const std::string& session_root) {
        return std::make_unique<DirectOps>(
            &backend,
            SessionBuilder().User("alice").Root(session_root).Build());
      },
      /*over_grpc=*/false);
}

// Links that stay inside work (an absolute target is read in the session's
// view), and what they do lands inside the session root only.
TEST_F(EscapeTest, LinksThatStayInsideWork) {
  GrpcOps ops(ClientFor(SessionBuilder().Root("/alice").Build()));
  ASSERT_TRUE(ops.Write("/to_slash/via_slash", "v").ok());
  EXPECT_EQ(ReadDiskFile(alice_ + "/via_slash"), "v");
  ASSERT_TRUE(ops.MakeDir("/to_slash/made").ok());
  EXPECT_TRUE(DiskExists(alice_ + "/made"));
  auto names = ops.List("/to_slash");
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ::testing::Contains("mine"));
  EXPECT_THAT(*names, ::testing::Not(::testing::Contains("secret")));
  EXPECT_EQ(*ops.RealPath("/to_slash"), "/");
  EXPECT_EQ(*ops.RealPath("/to_slash/mine"), "/mine");
  EXPECT_TRUE(absl::IsPermissionDenied(ops.RealPath("/to_dotdot").status()));
  // A symlink made through the API is stored verbatim and confined too.
  ASSERT_TRUE(ops.Symlink("/api_up", "../../outside/secret").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(ops.Read("/api_up").status()));
  ASSERT_TRUE(ops.Symlink("/api_abs", outside_ + "/secret").ok());
  EXPECT_TRUE(absl::IsNotFound(ops.Read("/api_abs").status()));
  // Hard-linking a link to the outside links the link, not its target.
  ASSERT_TRUE(ops.Link("/abs_secret", "/hard_to_link").ok());
  EXPECT_TRUE(absl::IsNotFound(ops.Read("/hard_to_link").status()));
  // lsetstat on such a link changes the link only.
  Attributes times;
  times.set_mtime(1234567);
  ASSERT_TRUE(ops.SetStat("/abs_secret", times, false).ok());
  // Removing and renaming the links leaves their targets alone.
  ASSERT_TRUE(ops.Remove("/abs_outside").ok());
  ASSERT_TRUE(ops.Rename("/rel_up", "/renamed", false).ok());
  EXPECT_FALSE(DiskExists(alice_ + "/abs_outside"));
  EXPECT_EQ(SnapshotTree(base().path(), alice_), before_);
}

// One thread keeps swapping alice/flip (a real directory) with alice/alt
// (a symlink climbing out of the root) via renameat2(RENAME_EXCHANGE); the
// test meanwhile reads, lists and writes through "/flip". No request may
// ever see or touch the outside.
TEST_F(EscapeTest, RenameRaceNeverReachesOutside) {
  MakeDiskDir(alice_ + "/flip");
  WriteDiskFile(alice_ + "/flip/data", "INSIDE");
  MakeDiskSymlink("../../outside", alice_ + "/alt");
  before_ = SnapshotTree(base().path(), alice_);

  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    const std::string a = alice_ + "/flip", b = alice_ + "/alt";
    while (!stop) {
      if (::renameat2(AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(),
                      RENAME_EXCHANGE) == 0) {
        ++swaps;
      }
    }
  });

  GrpcOps ops(ClientFor(SessionBuilder().Root("/alice").Build()));
  constexpr int kMinRounds = 1500;
  constexpr long kMinSwaps = 1000;
  int inside = 0, refused = 0, leaks = 0;
  for (int round = 0; round < kMinRounds || swaps < kMinSwaps; ++round) {
    if (round > 200 * kMinRounds) break;  // bounded even if swaps stall
    absl::StatusOr<std::string> got = ops.Read("/flip/data");
    if (got.ok() && *got == "INSIDE") {
      ++inside;
    } else if (got.ok()) {
      ++leaks;
      ADD_FAILURE() << "read returned \"" << *got << "\"";
    } else {
      ++refused;
    }
    auto names = ops.List("/flip");
    if (names.ok() &&
        std::find(names->begin(), names->end(), "secret") != names->end()) {
      ++leaks;
      ADD_FAILURE() << "listing showed the outside";
    }
    (void)ops.Write("/flip/planted", "x");
    (void)ops.MakeDir("/flip/made");
  }
  stop = true;
  swapper.join();
  RecordProperty("swaps", static_cast<int>(swaps));
  RecordProperty("inside_reads", inside);
  RecordProperty("refused_reads", refused);
  EXPECT_EQ(leaks, 0);
  EXPECT_GE(swaps, kMinSwaps);
  EXPECT_FALSE(DiskExists(outside_ + "/planted"));
  EXPECT_FALSE(DiskExists(outside_ + "/made"));
  EXPECT_EQ(SnapshotTree(base().path(), alice_), before_);
}

}  // namespace
}  // namespace sftpgate::localfs::testing
