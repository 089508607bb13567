// Behavior of the localfs backend over a real gRPC channel: round trips,
// errors, attributes, renames, directories, streaming reads, uploads
// (commit, abort, random offsets, atomicity) and the optional operations.

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "localfs_test_env.h"
#include "sftpgate/attributes.h"
#include "upload_staging.h"

namespace sftpgate::localfs::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint32_t kCreate = WriteHeader::FLAG_CREATE;
constexpr uint32_t kTruncate = WriteHeader::FLAG_TRUNCATE;
constexpr uint32_t kExclusive = WriteHeader::FLAG_EXCLUSIVE;
constexpr uint32_t kAppend = WriteHeader::FLAG_APPEND;

absl::StatusCode CodeOf(const absl::Status& s) { return s.code(); }
template <typename T>
absl::StatusCode CodeOf(const absl::StatusOr<T>& s) {
  return s.status().code();
}

#define EXPECT_CODE(expr, code) EXPECT_EQ(CodeOf(expr), absl::StatusCode::code)

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 23);
  return s;
}

using LocalFsBackendTest = LocalFsTest;

TEST_F(LocalFsBackendTest, DescribeReportsEveryCapability) {
  auto d = client().Describe();
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name(), "localfs 1.0");
  EXPECT_TRUE(d->symlinks());
  EXPECT_TRUE(d->hard_links());
  EXPECT_TRUE(d->stat_fs());
  EXPECT_TRUE(d->real_path());
  EXPECT_TRUE(d->random_write());
  EXPECT_TRUE(d->set_stat_no_follow());
}

TEST_F(LocalFsBackendTest, WriteThenReadRoundTrip) {
  const std::string data = Pattern(300000);
  auto size = client().WriteFile("/a.bin", data);
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, data.size());
  EXPECT_EQ(ReadDiskFile(Disk("/a.bin")), data);
  auto back = client().ReadFile("/a.bin");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
  EXPECT_THAT(TempFilesIn(root()), IsEmpty());
}

TEST_F(LocalFsBackendTest, FilesWrittenOnDiskAreServed) {
  MakeDiskDir(Disk("/d"));
  WriteDiskFile(Disk("/d/f"), "from disk");
  EXPECT_EQ(*client().ReadFile("/d/f"), "from disk");
  EXPECT_THAT(*client().ListNames("/d"), ElementsAre("f"));
}

TEST_F(LocalFsBackendTest, MissingPathsAreNotFound) {
  EXPECT_CODE(client().Stat("/nope"), kNotFound);
  EXPECT_CODE(client().Lstat("/nope"), kNotFound);
  EXPECT_CODE(client().ReadFile("/nope"), kNotFound);
  EXPECT_CODE(client().ListDir("/nope"), kNotFound);
  EXPECT_CODE(client().Remove("/nope"), kNotFound);
  EXPECT_CODE(client().RemoveDir("/nope"), kNotFound);
  EXPECT_CODE(client().Rename("/nope", "/x"), kNotFound);
  EXPECT_CODE(client().MakeDir("/nope/sub"), kNotFound);
  EXPECT_CODE(client().WriteFile("/nope/f", "x"), kNotFound);
  EXPECT_CODE(client().ReadLink("/nope"), kNotFound);
  EXPECT_CODE(client().Link("/nope", "/x"), kNotFound);
  EXPECT_CODE(client().SetStat("/nope", Attributes()), kNotFound);
  EXPECT_CODE(client().StatFs("/nope"), kNotFound);
  EXPECT_CODE(client().RealPath("/nope/x"), kNotFound);
  // Without FLAG_CREATE a missing file is not created.
  WriteOptions no_create;
  no_create.flags = kTruncate;
  EXPECT_CODE(client().WriteFile("/new", "x", no_create), kNotFound);
  EXPECT_FALSE(DiskExists(Disk("/new")));
}

TEST_F(LocalFsBackendTest, AttributesHaveTheExpectedShape) {
  const int64_t before = absl::ToUnixSeconds(absl::Now()) - 2;
  WriteOptions options;
  options.permissions = 0640;
  ASSERT_TRUE(client().WriteFile("/f", "12345", options).ok());
  ASSERT_TRUE(client().MakeDir("/d", 0750).ok());
  ASSERT_TRUE(client().Symlink("/l", "f").ok());

  auto f = client().Stat("/f");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->size(), 5u);
  EXPECT_EQ(f->mode(), kModeRegular | 0640);
  EXPECT_EQ(f->uid(), ::geteuid());
  EXPECT_EQ(f->gid(), ::getegid());
  EXPECT_EQ(f->nlink(), 1u);
  EXPECT_GE(f->mtime(), before);
  EXPECT_LE(f->mtime(), absl::ToUnixSeconds(absl::Now()) + 2);
  EXPECT_TRUE(f->has_atime());

  auto d = client().Stat("/d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode(), kModeDirectory | 0750);
  EXPECT_EQ(d->nlink(), 2u);

  auto l = client().Lstat("/l");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->mode() & kModeTypeMask, kModeSymlink);
  EXPECT_EQ(l->size(), 1u);  // length of "f"
  auto through = client().Stat("/l");
  ASSERT_TRUE(through.ok());
  EXPECT_EQ(through->mode(), kModeRegular | 0640);

  auto root = client().Stat("/");
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(IsDirectory(*root));
}

TEST_F(LocalFsBackendTest, DefaultModesUmaskAndNoSpecialBits) {
  ASSERT_TRUE(client().WriteFile("/f", "x").ok());
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().Stat("/f")->mode(), kModeRegular | 0644);
  EXPECT_EQ(client().Stat("/d")->mode(), kModeDirectory | 0755);
  // OpenSSH's mkdir sends 0777 and its put the local mode: the default
  // umask 022 applies (before: drwxrwxrwx).
  ASSERT_TRUE(client().MakeDir("/open", 0777).ok());
  EXPECT_EQ(client().Stat("/open")->mode(), kModeDirectory | 0755);
  WriteOptions all;
  all.permissions = 0666;
  ASSERT_TRUE(client().WriteFile("/g", "x", all).ok());
  EXPECT_EQ(client().Stat("/g")->mode(), kModeRegular | 0644);
  // An explicit chmod is not masked.
  Attributes chmod;
  chmod.set_mode(0666);
  ASSERT_TRUE(client().SetStat("/g", chmod).ok());
  EXPECT_EQ(client().Stat("/g")->mode(), kModeRegular | 0666);
  // Setuid, setgid and sticky are refused (the backend may run as root).
  WriteOptions suid;
  suid.permissions = 04755;
  EXPECT_CODE(client().WriteFile("/s", "x", suid), kPermissionDenied);
  EXPECT_FALSE(DiskExists(Disk("/s")));
  EXPECT_CODE(client().MakeDir("/t", 03777), kPermissionDenied);
  EXPECT_FALSE(DiskExists(Disk("/t")));
  chmod.set_mode(01777);
  EXPECT_CODE(client().SetStat("/d", chmod), kPermissionDenied);
  EXPECT_EQ(client().Stat("/d")->mode(), kModeDirectory | 0755);
}

TEST_F(LocalFsBackendTest, ChownIsRefusedUnlessEnabled) {
  WriteDiskFile(Disk("/f"), "x");
  Attributes same;
  same.set_uid(::geteuid());
  same.set_gid(::getegid());
  EXPECT_TRUE(client().SetStat("/f", same).ok());  // no change: fine
  Attributes other = same;
  other.set_uid(::geteuid() + 4242);
  EXPECT_CODE(client().SetStat("/f", other), kPermissionDenied);
  Attributes other_group = same;
  other_group.set_gid(::getegid() + 4242);
  EXPECT_CODE(client().SetStat("/f", other_group), kPermissionDenied);
  struct stat st;
  ASSERT_EQ(::stat(Disk("/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(st.st_gid, ::getegid());
}

TEST_F(LocalFsBackendTest, ModePolicyIsConfigurable) {
  ModePolicy policy;
  policy.umask = 077;
  policy.allow_special_bits = true;
  absl::StatusOr<BackendRoot> root = BackendRoot::Open(this->root());
  ASSERT_TRUE(root.ok()) << root.status();
  LocalFsBackend backend(*std::move(root), policy);
  const Session session = SessionBuilder().Build();
  Attributes wide;
  wide.set_mode(0777);
  ASSERT_TRUE(backend.MakeDir(session, "/private", wide).ok());
  EXPECT_EQ(client().Stat("/private")->mode(), kModeDirectory | 0700);
  Attributes sticky;
  sticky.set_mode(01777);
  ASSERT_TRUE(backend.MakeDir(session, "/shared", sticky).ok());
  EXPECT_EQ(client().Stat("/shared")->mode(), kModeDirectory | 01700);
}

TEST_F(LocalFsBackendTest, MakeDirAndRemoveDir) {
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().MakeDir("/d"), kAlreadyExists);
  EXPECT_CODE(client().MakeDir("/"), kAlreadyExists);
  ASSERT_TRUE(client().WriteFile("/d/f", "x").ok());
  EXPECT_CODE(client().RemoveDir("/d"), kFailedPrecondition);    // not empty
  EXPECT_CODE(client().RemoveDir("/d/f"), kFailedPrecondition);  // a file
  EXPECT_CODE(client().RemoveDir("/"), kPermissionDenied);
  EXPECT_TRUE(DiskExists(Disk("/d/f")));
  ASSERT_TRUE(client().Remove("/d/f").ok());
  ASSERT_TRUE(client().RemoveDir("/d").ok());
  EXPECT_FALSE(DiskExists(Disk("/d")));
}

TEST_F(LocalFsBackendTest, RemoveFilesAndLinksNeverDirectoriesOrTargets) {
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().Remove("/d"), kFailedPrecondition);
  EXPECT_CODE(client().Remove("/"), kFailedPrecondition);
  ASSERT_TRUE(client().WriteFile("/f", "keep").ok());
  ASSERT_TRUE(client().Symlink("/l", "/f").ok());
  ASSERT_TRUE(client().Symlink("/ld", "/d").ok());
  ASSERT_TRUE(client().Remove("/l").ok());
  ASSERT_TRUE(client().Remove("/ld").ok());
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "keep");
  EXPECT_TRUE(DiskExists(Disk("/d")));
  ASSERT_TRUE(client().Remove("/f").ok());
  EXPECT_FALSE(DiskExists(Disk("/f")));
}

TEST_F(LocalFsBackendTest, RenameFilesAndDirectories) {
  ASSERT_TRUE(client().WriteFile("/a", "A").ok());
  ASSERT_TRUE(client().Rename("/a", "/b").ok());
  EXPECT_FALSE(DiskExists(Disk("/a")));
  EXPECT_EQ(ReadDiskFile(Disk("/b")), "A");

  ASSERT_TRUE(client().MakeDir("/d").ok());
  ASSERT_TRUE(client().MakeDir("/d/sub").ok());
  ASSERT_TRUE(client().WriteFile("/d/sub/f", "deep").ok());
  ASSERT_TRUE(client().Rename("/d", "/e").ok());
  EXPECT_EQ(*client().ReadFile("/e/sub/f"), "deep");
  EXPECT_FALSE(DiskExists(Disk("/d")));

  // Onto itself: OK and nothing changes.
  ASSERT_TRUE(client().Rename("/b", "/b").ok());
  EXPECT_EQ(ReadDiskFile(Disk("/b")), "A");
  EXPECT_CODE(client().Rename("/missing", "/missing"), kNotFound);
  // Beneath itself.
  EXPECT_CODE(client().Rename("/e", "/e/sub/inside"), kInvalidArgument);
  // The root cannot move, nor be replaced.
  EXPECT_CODE(client().Rename("/", "/x"), kPermissionDenied);
  EXPECT_CODE(client().Rename("/b", "/", true), kPermissionDenied);
  // A missing parent of the target.
  EXPECT_CODE(client().Rename("/b", "/nope/b"), kNotFound);
}

TEST_F(LocalFsBackendTest, RenameOntoExistingTargets) {
  ASSERT_TRUE(client().WriteFile("/a", "A").ok());
  ASSERT_TRUE(client().WriteFile("/b", "B").ok());
  EXPECT_CODE(client().Rename("/a", "/b"), kAlreadyExists);
  EXPECT_EQ(ReadDiskFile(Disk("/a")), "A");
  EXPECT_EQ(ReadDiskFile(Disk("/b")), "B");
  ASSERT_TRUE(client().Rename("/a", "/b", /*overwrite=*/true).ok());
  EXPECT_FALSE(DiskExists(Disk("/a")));
  EXPECT_EQ(ReadDiskFile(Disk("/b")), "A");

  ASSERT_TRUE(client().MakeDir("/empty").ok());
  ASSERT_TRUE(client().MakeDir("/full").ok());
  ASSERT_TRUE(client().WriteFile("/full/f", "x").ok());
  ASSERT_TRUE(client().MakeDir("/dir").ok());
  EXPECT_CODE(client().Rename("/dir", "/empty"), kAlreadyExists);
  EXPECT_CODE(client().Rename("/dir", "/full", true), kFailedPrecondition);
  EXPECT_CODE(client().Rename("/b", "/empty", true), kFailedPrecondition);
  EXPECT_CODE(client().Rename("/dir", "/b", true), kFailedPrecondition);
  ASSERT_TRUE(client().Rename("/dir", "/empty", true).ok());
  EXPECT_FALSE(DiskExists(Disk("/dir")));
  EXPECT_EQ(ReadDiskFile(Disk("/full/f")), "x");
}

TEST_F(LocalFsBackendTest, StreamingReadsAtOffsetsAndPastEof) {
  const std::string data = Pattern(1000000);
  WriteDiskFile(Disk("/f"), data);
  auto chunks = client().ReadChunks("/f", 0, 0, 65536);
  ASSERT_TRUE(chunks.ok()) << chunks.status();
  EXPECT_GE(chunks->size(), data.size() / 65536);
  for (const auto& c : *chunks) EXPECT_LE(c.data().size(), 65536u);
  EXPECT_EQ(*client().ReadFile("/f", 0, 0, 65536), data);
  EXPECT_EQ(*client().ReadFile("/f", 123457), data.substr(123457));
  EXPECT_EQ(*client().ReadFile("/f", 999999), data.substr(999999));
  EXPECT_EQ(*client().ReadFile("/f", 1000, 5000), data.substr(1000, 5000));
  EXPECT_EQ(*client().ReadFile("/f", 999000, 5000), data.substr(999000));
  // At and past EOF: no chunks, OK.
  auto at_eof = client().ReadChunks("/f", data.size());
  ASSERT_TRUE(at_eof.ok()) << at_eof.status();
  EXPECT_THAT(*at_eof, IsEmpty());
  auto past = client().ReadChunks("/f", data.size() + 12345);
  ASSERT_TRUE(past.ok()) << past.status();
  EXPECT_THAT(*past, IsEmpty());
  auto far = client().ReadChunks("/f", ~0ull);
  ASSERT_TRUE(far.ok()) << far.status();
  EXPECT_THAT(*far, IsEmpty());
  // Directories cannot be read.
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().ReadFile("/d"), kFailedPrecondition);
  // An empty file.
  WriteDiskFile(Disk("/empty"), "");
  EXPECT_EQ(*client().ReadFile("/empty"), "");
}

TEST_F(LocalFsBackendTest, ReadingAFifoDoesNotHang) {
  ASSERT_EQ(::mkfifo(Disk("/fifo").c_str(), 0644), 0);
  EXPECT_CODE(client().ReadFile("/fifo"), kFailedPrecondition);
  EXPECT_CODE(client().WriteFile("/fifo", "x"), kFailedPrecondition);
  Attributes size;
  size.set_size(0);
  EXPECT_CODE(client().SetStat("/fifo", size), kFailedPrecondition);
}

TEST_F(LocalFsBackendTest, WriteFlags) {
  ASSERT_TRUE(client().WriteFile("/f", "0123456789").ok());
  // Exclusive on an existing file.
  WriteOptions exclusive;
  exclusive.flags = kCreate | kExclusive;
  EXPECT_CODE(client().WriteFile("/f", "x", exclusive), kAlreadyExists);
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "0123456789");
  ASSERT_TRUE(client().WriteFile("/g", "new", exclusive).ok());
  EXPECT_EQ(ReadDiskFile(Disk("/g")), "new");
  // A dangling symlink counts as existing for an exclusive create.
  ASSERT_TRUE(client().Symlink("/dangling", "/target").ok());
  EXPECT_CODE(client().WriteFile("/dangling", "x", exclusive), kAlreadyExists);
  EXPECT_FALSE(DiskExists(Disk("/target")));
  // Without truncate the rest of the old contents stays.
  WriteOptions keep;
  keep.flags = 0;
  keep.offset = 2;
  ASSERT_TRUE(client().WriteFile("/f", "ab", keep).ok());
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "01ab456789");
  // Append ignores offsets.
  WriteOptions append;
  append.flags = kAppend;
  ASSERT_TRUE(client().WriteFile("/f", "XYZ", append).ok());
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "01ab456789XYZ");
  // Truncate.
  auto size = client().WriteFile("/f", "t");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 1u);
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "t");
  // A directory cannot be written.
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().WriteFile("/d", "x"), kFailedPrecondition);
  EXPECT_CODE(client().WriteFile("/", "x"), kFailedPrecondition);
  EXPECT_THAT(TempFilesIn(root()), IsEmpty());
}

TEST_F(LocalFsBackendTest, OverwriteKeepsTheModeOfTheExistingFile) {
  WriteDiskFile(Disk("/f"), "old");
  ASSERT_EQ(::chmod(Disk("/f").c_str(), 0600), 0);
  WriteOptions options;
  options.permissions = 0666;  // only for created files
  ASSERT_TRUE(client().WriteFile("/f", "new", options).ok());
  EXPECT_EQ(client().Stat("/f")->mode(), kModeRegular | 0600);
}

TEST_F(LocalFsBackendTest, NonSequentialOffsetsLeaveZeroHoles) {
  auto stream = client().OpenWrite(MakeWriteHeader("/r"));
  ASSERT_TRUE(stream->Send(10, "world"));
  ASSERT_TRUE(stream->Send(0, "hello"));
  ASSERT_TRUE(stream->Send(20, "!"));
  auto size = stream->Finish();
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*size, 21u);
  EXPECT_EQ(ReadDiskFile(Disk("/r")), std::string("hello") +
                                          std::string(5, '\0') + "world" +
                                          std::string(5, '\0') + "!");
}

TEST_F(LocalFsBackendTest, CancelledUploadLeavesNoTrace) {
  {
    auto stream = client().OpenWrite(MakeWriteHeader("/new"));
    ASSERT_TRUE(stream->Send(0, Pattern(100000)));
    EXPECT_CODE(stream->Cancel(), kCancelled);
  }
  WriteDiskFile(Disk("/old"), "previous");
  {
    auto stream = client().OpenWrite(MakeWriteHeader("/old"));
    ASSERT_TRUE(stream->Send(0, "replacement that never lands"));
    EXPECT_FALSE(stream->Cancel().ok());
  }
  {
    // Dropping an unfinished stream cancels it too.
    auto stream = client().OpenWrite(MakeWriteHeader("/dropped"));
    ASSERT_TRUE(stream->Send(0, "x"));
  }
  // The backend learns of a cancel asynchronously: wait for the cleanup.
  const absl::Time end = absl::Now() + absl::Seconds(20);
  while (!TempFilesIn(root()).empty() && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_THAT(TempFilesIn(root()), IsEmpty());
  EXPECT_FALSE(DiskExists(Disk("/new")));
  EXPECT_FALSE(DiskExists(Disk("/dropped")));
  EXPECT_EQ(ReadDiskFile(Disk("/old")), "previous");
}

TEST_F(LocalFsBackendTest, ReaderDuringUploadSeesOldContent) {
  const std::string old_data = Pattern(200000);
  WriteDiskFile(Disk("/f"), old_data);
  auto stream = client().OpenWrite(MakeWriteHeader("/f"));
  const std::string new_data(300000, 'N');
  for (size_t off = 0; off < new_data.size(); off += 50000) {
    ASSERT_TRUE(stream->Send(off, new_data.substr(off, 50000)));
    // Every read in the middle of the upload sees the whole old file.
    EXPECT_EQ(*client().ReadFile("/f"), old_data);
    EXPECT_EQ(client().Stat("/f")->size(), old_data.size());
  }
  // The upload in progress has no name at all (O_TMPFILE).
  EXPECT_THAT(*client().ListNames("/"), ElementsAre("f"));
  EXPECT_THAT(TempFilesIn(root()), IsEmpty());
  auto size = stream->Finish();
  ASSERT_TRUE(size.ok()) << size.status();
  EXPECT_EQ(*client().ReadFile("/f"), new_data);
  EXPECT_THAT(TempFilesIn(root()), IsEmpty());
}

TEST_F(LocalFsBackendTest, UploadInProgressNeverBlocksRmdir) {
  ASSERT_TRUE(client().MakeDir("/d").ok());
  auto stream = client().OpenWrite(MakeWriteHeader("/d/f"));
  ASSERT_TRUE(stream->Send(0, Pattern(100000)));
  // Before: the upload's temporary file made the directory "not empty".
  EXPECT_TRUE(client().RemoveDir("/d").ok());
  EXPECT_FALSE(DiskExists(Disk("/d")));
  // Its directory gone, the upload cannot land.
  EXPECT_FALSE(stream->Finish().ok());
}

TEST_F(LocalFsBackendTest, UsersFilesNamedLikeTemporaryFilesAreListed) {
  const std::string name = ".sftpgate-tmp-0123456789abcdef";
  ASSERT_TRUE(client().WriteFile("/" + name, "mine").ok());
  EXPECT_THAT(*client().ListNames("/"), ElementsAre(name));
  EXPECT_EQ(*client().ReadFile("/" + name), "mine");
  // Not taken for a leftover by the sweep either.
  absl::StatusOr<BackendRoot> root = BackendRoot::Open(this->root());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->SweepUploadLeftovers(), 0u);
  EXPECT_EQ(ReadDiskFile(Disk("/" + name)), "mine");
}

// A leftover of a killed backend: a marked temporary file on disk.
void PlantLeftover(const std::string& path) {
  WriteDiskFile(path, "partial upload");
  ASSERT_EQ(::setxattr(path.c_str(), kUploadMarker, "1", 1, 0), 0)
      << std::strerror(errno);
}

TEST_F(LocalFsBackendTest, LeftoversAreHiddenSweptAndNeverBlockRmdir) {
  ASSERT_TRUE(client().MakeDir("/a").ok());
  ASSERT_TRUE(client().MakeDir("/a/b").ok());
  ASSERT_TRUE(client().MakeDir("/gone").ok());
  PlantLeftover(Disk("/a/b/.sftpgate-tmp-00000000000000aa"));
  PlantLeftover(Disk("/.sftpgate-tmp-00000000000000bb"));
  PlantLeftover(Disk("/gone/.sftpgate-tmp-00000000000000cc"));
  EXPECT_THAT(*client().ListNames("/a/b"), IsEmpty());
  EXPECT_TRUE(client().RemoveDir("/gone").ok());
  absl::StatusOr<BackendRoot> root = BackendRoot::Open(this->root());
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(root->SweepUploadLeftovers(), 2u);
  EXPECT_THAT(TempFilesIn(this->root()), IsEmpty());
}

TEST_F(LocalFsBackendTest, ConcurrentReadersNeverSeeAPartialFile) {
  const std::string a(256 * 1024, 'a');
  const std::string b(256 * 1024, 'b');
  ASSERT_TRUE(client().WriteFile("/f", a).ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!done) {
      auto got = client().ReadFile("/f");
      if (!got.ok() || (*got != a && *got != b)) ++bad;
    }
  });
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client().WriteFile("/f", i % 2 ? a : b).ok());
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad, 0);
}

TEST_F(LocalFsBackendTest, ReadOnlySessionCannotModify) {
  WriteDiskFile(Disk("/f"), "x");
  TestClient ro = ClientFor(SessionBuilder().ReadOnly().Build());
  EXPECT_CODE(ro.MakeDir("/d"), kPermissionDenied);
  EXPECT_CODE(ro.WriteFile("/g", "x"), kPermissionDenied);
  EXPECT_CODE(ro.Remove("/f"), kPermissionDenied);
  EXPECT_CODE(ro.RemoveDir("/f"), kPermissionDenied);
  EXPECT_CODE(ro.Rename("/f", "/g"), kPermissionDenied);
  EXPECT_CODE(ro.SetStat("/f", Attributes()), kPermissionDenied);
  EXPECT_CODE(ro.SetStat("/f", Attributes(), false), kPermissionDenied);
  EXPECT_CODE(ro.Symlink("/l", "f"), kPermissionDenied);
  EXPECT_CODE(ro.Link("/f", "/h"), kPermissionDenied);
  EXPECT_EQ(*ro.ReadFile("/f"), "x");
  EXPECT_THAT(*ro.ListNames("/"), ElementsAre("f"));
}

TEST_F(LocalFsBackendTest, SetStatChangesWhatIsSet) {
  WriteDiskFile(Disk("/f"), "0123456789");
  Attributes a;
  a.set_mode(0600);
  a.set_mtime(1000000000);
  a.set_atime(1100000000);
  ASSERT_TRUE(client().SetStat("/f", a).ok());
  auto st = client().Stat("/f");
  EXPECT_EQ(st->mode(), kModeRegular | 0600);
  EXPECT_EQ(st->mtime(), 1000000000);
  EXPECT_EQ(st->atime(), 1100000000);
  EXPECT_EQ(st->size(), 10u);

  Attributes shrink;
  shrink.set_size(4);
  ASSERT_TRUE(client().SetStat("/f", shrink).ok());
  EXPECT_EQ(ReadDiskFile(Disk("/f")), "0123");
  Attributes grow;
  grow.set_size(6);
  ASSERT_TRUE(client().SetStat("/f", grow).ok());
  EXPECT_EQ(ReadDiskFile(Disk("/f")), std::string("0123\0\0", 6));

  Attributes owner;
  owner.set_uid(::geteuid());
  owner.set_gid(::getegid());
  EXPECT_TRUE(client().SetStat("/f", owner).ok());

  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().SetStat("/d", shrink), kFailedPrecondition);
  Attributes dir_mode;
  dir_mode.set_mode(0700);
  ASSERT_TRUE(client().SetStat("/d", dir_mode).ok());
  EXPECT_EQ(client().Stat("/d")->mode(), kModeDirectory | 0700);
  ASSERT_TRUE(client().SetStat("/", Attributes()).ok());
}

TEST_F(LocalFsBackendTest, SetStatFollowsLinksAndLsetstatDoesNot) {
  WriteDiskFile(Disk("/f"), "x");
  ASSERT_TRUE(client().Symlink("/l", "f").ok());
  Attributes mode;
  mode.set_mode(0604);
  ASSERT_TRUE(client().SetStat("/l", mode).ok());
  EXPECT_EQ(client().Stat("/f")->mode(), kModeRegular | 0604);

  EXPECT_CODE(client().SetStat("/l", mode, /*follow_symlinks=*/false),
              kUnimplemented);
  Attributes times;
  times.set_mtime(1200000000);
  times.set_atime(1200000000);
  ASSERT_TRUE(client().SetStat("/l", times, false).ok());
  EXPECT_EQ(client().Lstat("/l")->mtime(), 1200000000);
  EXPECT_NE(client().Stat("/f")->mtime(), 1200000000);
}

TEST_F(LocalFsBackendTest, SymlinksAreStoredVerbatim) {
  for (const char* target :
       {"/abs/path", "../up/and/over", "dangling", "with space", "/"}) {
    SCOPED_TRACE(target);
    ASSERT_TRUE(client().Remove("/l").ok() || !DiskExists(Disk("/l")));
    ASSERT_TRUE(client().Symlink("/l", target).ok());
    EXPECT_EQ(*client().ReadLink("/l"), target);
    char buf[256];
    ssize_t n = ::readlink(Disk("/l").c_str(), buf, sizeof(buf));
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), target);
  }
  EXPECT_CODE(client().Symlink("/l", "x"), kAlreadyExists);
  EXPECT_CODE(client().Symlink("/", "x"), kAlreadyExists);
  EXPECT_CODE(client().Symlink("/e", ""), kInvalidArgument);
  WriteDiskFile(Disk("/f"), "x");
  EXPECT_CODE(client().ReadLink("/f"), kInvalidArgument);
  EXPECT_CODE(client().ReadLink("/"), kInvalidArgument);
}

TEST_F(LocalFsBackendTest, AbsoluteLinksResolveFromTheSessionRoot) {
  MakeDiskDir(Disk("/dir"));
  WriteDiskFile(Disk("/dir/f"), "inside");
  ASSERT_TRUE(client().Symlink("/abs", "/dir/f").ok());
  ASSERT_TRUE(client().MakeDir("/sub").ok());
  ASSERT_TRUE(client().Symlink("/sub/rel", "../dir/f").ok());
  ASSERT_TRUE(client().Symlink("/chain", "/sub/rel").ok());
  EXPECT_EQ(*client().ReadFile("/abs"), "inside");
  EXPECT_EQ(*client().ReadFile("/sub/rel"), "inside");
  EXPECT_EQ(*client().ReadFile("/chain"), "inside");
  // Writing through a link replaces the file it leads to, not the link.
  ASSERT_TRUE(client().WriteFile("/chain", "rewritten").ok());
  EXPECT_EQ(ReadDiskFile(Disk("/dir/f")), "rewritten");
  EXPECT_EQ(*client().ReadLink("/chain"), "/sub/rel");
  // A dangling link is followed to create its target.
  ASSERT_TRUE(client().Symlink("/dangling", "/dir/created").ok());
  ASSERT_TRUE(client().WriteFile("/dangling", "made").ok());
  EXPECT_EQ(ReadDiskFile(Disk("/dir/created")), "made");
  // Link loops.
  ASSERT_TRUE(client().Symlink("/loop1", "/loop2").ok());
  ASSERT_TRUE(client().Symlink("/loop2", "loop1").ok());
  EXPECT_CODE(client().Stat("/loop1"), kPermissionDenied);
  EXPECT_CODE(client().WriteFile("/loop1", "x"), kPermissionDenied);
}

TEST_F(LocalFsBackendTest, HardLinks) {
  WriteDiskFile(Disk("/f"), "shared");
  ASSERT_TRUE(client().Link("/f", "/g").ok());
  EXPECT_EQ(client().Stat("/f")->nlink(), 2u);
  EXPECT_EQ(ReadDiskFile(Disk("/g")), "shared");
  EXPECT_CODE(client().Link("/f", "/g"), kAlreadyExists);
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_CODE(client().Link("/d", "/d2"), kFailedPrecondition);
  EXPECT_CODE(client().Link("/f", "/"), kAlreadyExists);
}

TEST_F(LocalFsBackendTest, RealPath) {
  ASSERT_TRUE(client().MakeDir("/a").ok());
  ASSERT_TRUE(client().MakeDir("/a/b").ok());
  ASSERT_TRUE(client().Symlink("/la", "/a").ok());
  ASSERT_TRUE(client().Symlink("/a/lb", "b").ok());
  EXPECT_EQ(*client().RealPath("/"), "/");
  EXPECT_EQ(*client().RealPath("/a/b"), "/a/b");
  EXPECT_EQ(*client().RealPath("/la/lb"), "/a/b");
  EXPECT_EQ(*client().RealPath("/la/lb/missing"), "/a/b/missing");
  EXPECT_EQ(*client().RealPath("/missing"), "/missing");
  EXPECT_CODE(client().RealPath("/missing/deeper"), kNotFound);
  // The view is the session's, never the host's.
  TestClient alice = ClientFor(SessionBuilder().Root("/alice").Build());
  ASSERT_TRUE(alice.MakeDir("/x").ok());
  EXPECT_EQ(*alice.RealPath("/x"), "/x");
  EXPECT_EQ(*alice.RealPath("/"), "/");
}

TEST_F(LocalFsBackendTest, StatFs) {
  auto fs = client().StatFs("/");
  ASSERT_TRUE(fs.ok()) << fs.status();
  EXPECT_GT(fs->blocks(), 0u);
  EXPECT_GT(fs->block_size(), 0u);
  EXPECT_GE(fs->blocks(), fs->blocks_free());
  EXPECT_GT(fs->max_name_length(), 0u);
}

TEST_F(LocalFsBackendTest, ListDirStreamsEntriesWithAttributes) {
  ASSERT_TRUE(client().MakeDir("/big").ok());
  constexpr int kEntries = 1500;
  for (int i = 0; i < kEntries; ++i) {
    WriteDiskFile(Disk(absl::StrCat("/big/f", i)), std::string(i % 7, 'x'));
  }
  MakeDiskDir(Disk("/big/sub"));
  MakeDiskSymlink("f1", Disk("/big/link"));
  auto listing = client().ListDir("/big");
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_EQ(listing->entries.size(), kEntries + 2u);
  EXPECT_GT(listing->messages, 1);  // streamed in batches
  int checked = 0;
  for (const DirEntry& e : listing->entries) {
    if (e.name() == "sub") {
      EXPECT_TRUE(IsDirectory(e.attributes()));
    } else if (e.name() == "link") {
      EXPECT_TRUE(IsSymlink(e.attributes()));
    } else {
      int i = std::stoi(e.name().substr(1));
      EXPECT_TRUE(IsRegular(e.attributes()));
      EXPECT_EQ(e.attributes().size(), static_cast<uint64_t>(i % 7));
      ++checked;
    }
  }
  EXPECT_EQ(checked, kEntries);
  WriteDiskFile(Disk("/file"), "x");
  EXPECT_CODE(client().ListDir("/file"), kFailedPrecondition);
  EXPECT_THAT(*client().ListNames("/big/sub"), IsEmpty());
}

TEST_F(LocalFsBackendTest, SessionRootsAreCreatedAndSeparate) {
  TestClient carol = ClientFor(SessionBuilder().Root("/users/carol").Build());
  TestClient dave = ClientFor(SessionBuilder().Root("/users/dave").Build());
  ASSERT_TRUE(carol.WriteFile("/f", "carol's").ok());
  ASSERT_TRUE(dave.WriteFile("/f", "dave's").ok());
  EXPECT_EQ(ReadDiskFile(Disk("/users/carol/f")), "carol's");
  EXPECT_EQ(ReadDiskFile(Disk("/users/dave/f")), "dave's");
  EXPECT_EQ(*carol.ReadFile("/f"), "carol's");
  EXPECT_THAT(*carol.ListNames("/"), ElementsAre("f"));
  EXPECT_THAT(*client().ListNames("/users"), ElementsAre("carol", "dave"));
}

TEST_F(LocalFsBackendTest, BadPathsAreRefused) {
  EXPECT_CODE(client().Stat("relative"), kInvalidArgument);
  EXPECT_CODE(client().Stat(""), kInvalidArgument);
  EXPECT_CODE(client().Stat(std::string("/a\0b", 4)), kInvalidArgument);
  // Over gRPC the SDK host refuses ".." before the backend sees it (the
  // backend's own refusal is covered by localfs_escape_test).
  EXPECT_CODE(client().Stat("/.."), kInvalidArgument);
}

}  // namespace
}  // namespace sftpgate::localfs::testing
