// Memory backend over gRPC: file contents, attributes, streaming reads and
// writes (commit, abort, offsets, flags).

#include <string>

#include "absl/time/clock.h"
#include "memory_fixture.h"
#include "sftpgate/attributes.h"

namespace sftpgate::testing {
namespace {

using Flag = v1::WriteHeader;

TEST_F(MemoryTest, SmallRoundTrip) {
  Put("/hello.txt", "hello, world");
  EXPECT_EQ(Get("/hello.txt"), "hello, world");
  Put("/hello.txt", "bye");  // truncating rewrite
  EXPECT_EQ(Get("/hello.txt"), "bye");
  Put("/empty", "");
  EXPECT_EQ(Get("/empty"), "");
  EXPECT_EQ(client().Stat("/empty")->size(), 0u);
}

TEST_F(MemoryTest, LargeRoundTripInManyChunkSizes) {
  const std::string data = Pattern(5 * 1024 * 1024 + 17);
  WriteOptions options;
  options.chunk_size = 256 * 1024;
  ASSERT_EQ(*client().WriteFile("/big", data, options), data.size());
  EXPECT_EQ(client().Stat("/big")->size(), data.size());
  for (uint32_t chunk : {0u, 1000u, 65536u, 1u << 20}) {
    absl::StatusOr<std::string> back = client().ReadFile("/big", 0, 0, chunk);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_TRUE(*back == data) << "chunk size " << chunk;
  }
}

TEST_F(MemoryTest, MissingPaths) {
  Put("/file", "x");
  ASSERT_TRUE(client().MakeDir("/dir").ok());
  const auto kNotFound = absl::StatusCode::kNotFound;
  EXPECT_EQ(client().Stat("/nope").status().code(), kNotFound);
  EXPECT_EQ(client().Lstat("/nope").status().code(), kNotFound);
  EXPECT_EQ(client().Stat("/dir/nope/deeper").status().code(), kNotFound);
  EXPECT_EQ(client().ReadFile("/nope").status().code(), kNotFound);
  EXPECT_EQ(client().ListDir("/nope").status().code(), kNotFound);
  EXPECT_EQ(client().Remove("/nope").code(), kNotFound);
  EXPECT_EQ(client().RemoveDir("/nope").code(), kNotFound);
  EXPECT_EQ(client().Rename("/nope", "/x").code(), kNotFound);
  EXPECT_EQ(client().Rename("/file", "/nodir/x").code(), kNotFound);
  EXPECT_EQ(client().MakeDir("/nodir/sub").code(), kNotFound);
  EXPECT_EQ(client().ReadLink("/nope").status().code(), kNotFound);
  EXPECT_EQ(client().SetStat("/nope", Attributes()).code(), kNotFound);
  WriteOptions no_create;
  no_create.flags = Flag::FLAG_TRUNCATE;
  EXPECT_EQ(client().WriteFile("/nope", "x", no_create).status().code(),
            kNotFound);
  EXPECT_EQ(client().WriteFile("/nodir/f", "x").status().code(), kNotFound);
  // A file used as a directory.
  EXPECT_EQ(client().Stat("/file/child").status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Nothing of the failed calls appeared.
  EXPECT_EQ(*client().ListNames("/"),
            (std::vector<std::string>{"dir", "file"}));
}

TEST_F(MemoryTest, AttributeShape) {
  const int64_t before = absl::ToUnixSeconds(absl::Now());
  Put("/f", "12345");
  ASSERT_TRUE(client().MakeDir("/d").ok());
  ASSERT_TRUE(client().Symlink("/l", "f").ok());
  const int64_t after = absl::ToUnixSeconds(absl::Now());

  Attributes f = *client().Stat("/f");
  EXPECT_EQ(f.mode(), kModeRegular | 0644);
  EXPECT_EQ(f.size(), 5u);
  EXPECT_EQ(f.uid(), kUid);
  EXPECT_EQ(f.gid(), kGid);
  EXPECT_EQ(f.nlink(), 1u);
  EXPECT_GE(f.mtime(), before);
  EXPECT_LE(f.mtime(), after);
  EXPECT_TRUE(f.has_atime());

  Attributes d = *client().Stat("/d");
  EXPECT_EQ(d.mode(), kModeDirectory | 0755);
  EXPECT_EQ(d.nlink(), 2u);
  EXPECT_TRUE(d.has_size());
  ASSERT_TRUE(client().MakeDir("/d/sub").ok());
  EXPECT_EQ(client().Stat("/d")->nlink(), 3u);  // "." + ".." of sub

  Attributes l = *client().Lstat("/l");
  EXPECT_TRUE(IsSymlink(l));
  EXPECT_EQ(l.size(), 1u);  // "f"
  Attributes followed = *client().Stat("/l");
  EXPECT_TRUE(IsRegular(followed));
  EXPECT_EQ(followed.size(), 5u);

  WriteOptions private_file;
  private_file.permissions = 0600;
  ASSERT_TRUE(client().WriteFile("/p", "x", private_file).ok());
  EXPECT_EQ(client().Stat("/p")->mode(), kModeRegular | 0600);
  ASSERT_TRUE(client().MakeDir("/pd", 0700).ok());
  EXPECT_EQ(client().Stat("/pd")->mode(), kModeDirectory | 0700);
  EXPECT_TRUE(IsDirectory(*client().Stat("/")));
}

TEST_F(MemoryTest, SetStat) {
  Put("/f", "hello world");
  Attributes change;
  change.set_mode(0100600);  // type bits are ignored
  change.set_uid(1);
  change.set_gid(2);
  change.set_atime(1000);
  change.set_mtime(2000);
  ASSERT_TRUE(client().SetStat("/f", change).ok());
  Attributes a = *client().Stat("/f");
  EXPECT_EQ(a.mode(), kModeRegular | 0600);
  EXPECT_EQ(a.uid(), 1u);
  EXPECT_EQ(a.gid(), 2u);
  EXPECT_EQ(a.atime(), 1000);
  EXPECT_EQ(a.mtime(), 2000);

  Attributes size;
  size.set_size(5);
  ASSERT_TRUE(client().SetStat("/f", size).ok());
  EXPECT_EQ(Get("/f"), "hello");
  size.set_size(8);
  ASSERT_TRUE(client().SetStat("/f", size).ok());
  EXPECT_EQ(Get("/f"), std::string("hello\0\0\0", 8));

  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().SetStat("/d", size).code(),
            absl::StatusCode::kFailedPrecondition);
  // Following a symlink changes the target; not following, the link.
  ASSERT_TRUE(client().Symlink("/l", "f").ok());
  Attributes times;
  times.set_mtime(3000);
  ASSERT_TRUE(client().SetStat("/l", times, true).ok());
  EXPECT_EQ(client().Stat("/f")->mtime(), 3000);
  times.set_mtime(4000);
  ASSERT_TRUE(client().SetStat("/l", times, false).ok());
  EXPECT_EQ(client().Lstat("/l")->mtime(), 4000);
  EXPECT_EQ(client().Stat("/f")->mtime(), 3000);
}

TEST_F(MemoryTest, ReadsAtOffsetsAndPastEof) {
  const std::string data = Pattern(200 * 1024);
  Put("/f", data);
  EXPECT_EQ(*client().ReadFile("/f", 65530, 20), data.substr(65530, 20));
  EXPECT_EQ(*client().ReadFile("/f", 100000), data.substr(100000));
  EXPECT_EQ(*client().ReadFile("/f", 1, 0, 7), data.substr(1));
  EXPECT_EQ(*client().ReadFile("/f", data.size() - 1),
            data.substr(data.size() - 1));
  // At or past EOF: no chunks, OK.
  EXPECT_TRUE(client().ReadChunks("/f", data.size())->empty());
  EXPECT_TRUE(client().ReadChunks("/f", data.size() + 12345)->empty());
  // Length past EOF stops at EOF.
  EXPECT_EQ(client().ReadFile("/f", data.size() - 10, 1000)->size(), 10u);
  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().ReadFile("/d").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MemoryTest, UploadVisibleOnlyAfterCommit) {
  Put("/existing", "old contents");
  std::unique_ptr<WriteStream> fresh =
      client().OpenWrite(MakeWriteHeader("/fresh"));
  std::unique_ptr<WriteStream> over =
      client().OpenWrite(MakeWriteHeader("/existing"));
  ASSERT_TRUE(fresh->Send(0, "new file"));
  ASSERT_TRUE(over->Send(0, "new contents"));
  // A round trip on another call orders us after the chunks were sent;
  // nothing is visible before the commit either way.
  EXPECT_EQ(client().Stat("/fresh").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Get("/existing"), "old contents");
  EXPECT_EQ(*fresh->Finish(), 8u);
  EXPECT_EQ(*over->Finish(), 12u);
  EXPECT_EQ(Get("/fresh"), "new file");
  EXPECT_EQ(Get("/existing"), "new contents");
}

TEST_F(MemoryTest, CancelledUploadLeavesNoTrace) {
  Put("/existing", "old contents");
  for (const char* path : {"/fresh", "/existing"}) {
    std::unique_ptr<WriteStream> stream =
        client().OpenWrite(MakeWriteHeader(path));
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(stream->Send(i * 1000, Pattern(1000, i)));
    }
    EXPECT_EQ(stream->Cancel().code(), absl::StatusCode::kCancelled);
  }
  // Later calls on the same channel see the state after the aborts.
  EXPECT_EQ(client().Stat("/fresh").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Get("/existing"), "old contents");
  EXPECT_EQ(*client().ListNames("/"), std::vector<std::string>{"existing"});
}

TEST_F(MemoryTest, NonSequentialOffsets) {
  EXPECT_TRUE(client().Describe()->random_write());
  std::unique_ptr<WriteStream> stream =
      client().OpenWrite(MakeWriteHeader("/sparse"));
  ASSERT_TRUE(stream->Send(100000, "tail"));
  ASSERT_TRUE(stream->Send(0, "head"));
  ASSERT_TRUE(stream->Send(50, "middle"));
  ASSERT_EQ(*stream->Finish(), 100004u);
  std::string expected(100004, '\0');
  expected.replace(0, 4, "head");
  expected.replace(50, 6, "middle");
  expected.replace(100000, 4, "tail");
  EXPECT_TRUE(Get("/sparse") == expected);
}

TEST_F(MemoryTest, OpenFlags) {
  Put("/f", "hello world");
  WriteOptions keep;
  keep.flags = Flag::FLAG_NONE;
  ASSERT_TRUE(client().WriteFile("/f", "HE", keep).ok());
  EXPECT_EQ(Get("/f"), "HEllo world");
  keep.offset = 6;
  ASSERT_TRUE(client().WriteFile("/f", "WORLD!", keep).ok());
  EXPECT_EQ(Get("/f"), "HEllo WORLD!");

  WriteOptions append;
  append.flags = Flag::FLAG_APPEND;
  ASSERT_EQ(*client().WriteFile("/f", "++", append), 14u);
  EXPECT_EQ(Get("/f"), "HEllo WORLD!++");

  WriteOptions exclusive;
  exclusive.flags = Flag::FLAG_CREATE | Flag::FLAG_EXCLUSIVE;
  EXPECT_EQ(client().WriteFile("/f", "x", exclusive).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Get("/f"), "HEllo WORLD!++");
  ASSERT_TRUE(client().WriteFile("/new", "x", exclusive).ok());
  // O_EXCL does not follow a symlink, even a dangling one.
  ASSERT_TRUE(client().Symlink("/dangling", "nowhere").ok());
  EXPECT_EQ(client().WriteFile("/dangling", "x", exclusive).status().code(),
            absl::StatusCode::kAlreadyExists);
  // Without O_EXCL the dangling link's target is created.
  ASSERT_TRUE(client().WriteFile("/dangling", "made").ok());
  EXPECT_EQ(Get("/nowhere"), "made");

  ASSERT_TRUE(client().MakeDir("/d").ok());
  EXPECT_EQ(client().WriteFile("/d", "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(MemoryTest, ReaderKeepsItsSnapshotAcrossACommit) {
  const std::string old_data = Pattern(512 * 1024, 1);
  Put("/f", old_data);
  grpc::ClientContext context;
  client().SetDeadline(&context);
  v1::ReadRequest request;
  *request.mutable_session() = client().session();
  request.set_path("/f");
  request.set_chunk_size(4096);
  auto reader = client().stub()->Read(&context, request);
  v1::ReadChunk chunk;
  ASSERT_TRUE(reader->Read(&chunk));
  std::string got = chunk.data();

  Put("/f", Pattern(600 * 1024, 2));  // a new version, committed mid-read

  while (reader->Read(&chunk)) got += chunk.data();
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_TRUE(got == old_data);
  EXPECT_TRUE(Get("/f") == Pattern(600 * 1024, 2));
}

}  // namespace
}  // namespace sftpgate::testing
