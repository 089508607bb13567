// FileData / FileDataBuilder: block storage, holes, copy-on-write.

#include "file_data.h"

#include <string>

#include "gtest/gtest.h"
#include "memory_fixture.h"

namespace sftpgate::memory {
namespace {

using ::sftpgate::testing::Pattern;
constexpr size_t kBlock = FileData::kBlockSize;

std::string ReadAll(const FileData& data, uint64_t offset = 0) {
  std::string out;
  data.Read(offset, data.size() + 1, &out);
  return out;
}

TEST(FileDataTest, EmptyFileReadsNothing) {
  FileDataBuilder builder;
  auto data = builder.Build();
  EXPECT_EQ(data->size(), 0u);
  std::string out = "junk";
  data->Read(0, 10, &out);
  EXPECT_TRUE(out.empty());
}

TEST(FileDataTest, WritesAcrossBlocks) {
  const std::string content = Pattern(3 * kBlock + 123);
  FileDataBuilder builder;
  // In uneven pieces, so writes straddle block boundaries.
  for (size_t at = 0; at < content.size(); at += 10007) {
    builder.Write(at, absl::string_view(content).substr(at, 10007));
  }
  auto data = builder.Build();
  EXPECT_EQ(data->size(), content.size());
  EXPECT_EQ(ReadAll(*data), content);
  std::string out;
  data->Read(kBlock - 5, 10, &out);
  EXPECT_EQ(out, content.substr(kBlock - 5, 10));
  data->Read(content.size() - 3, 100, &out);
  EXPECT_EQ(out, content.substr(content.size() - 3));
  data->Read(content.size(), 100, &out);
  EXPECT_TRUE(out.empty());
}

TEST(FileDataTest, HolesReadAsZeros) {
  FileDataBuilder builder;
  builder.Write(2 * kBlock + 10, "end");
  builder.Write(5, "start");
  auto data = builder.Build();
  std::string expected(2 * kBlock + 13, '\0');
  expected.replace(5, 5, "start");
  expected.replace(2 * kBlock + 10, 3, "end");
  EXPECT_EQ(ReadAll(*data), expected);
}

TEST(FileDataTest, TruncateThenExtendReadsZeros) {
  FileDataBuilder builder;
  builder.Write(0, std::string(kBlock + 100, 'x'));
  builder.Resize(kBlock + 10);
  builder.Resize(kBlock + 50);
  auto data = builder.Build();
  std::string expected(kBlock + 10, 'x');
  expected.append(40, '\0');
  EXPECT_EQ(ReadAll(*data), expected);
}

TEST(FileDataTest, BuilderNeverChangesItsBase) {
  const std::string original = Pattern(2 * kBlock + 7);
  FileDataBuilder first;
  first.Write(0, original);
  auto base = first.Build();

  FileDataBuilder edit(*base);
  edit.Write(kBlock + 1, "CHANGED");
  edit.Write(3 * kBlock, "grown");
  edit.Resize(3 * kBlock + 2);
  auto edited = edit.Build();

  EXPECT_EQ(ReadAll(*base), original);  // the snapshot is untouched
  std::string expected = original;
  expected.replace(kBlock + 1, 7, "CHANGED");
  expected.resize(3 * kBlock, '\0');
  expected += "gr";
  EXPECT_EQ(ReadAll(*edited), expected);

  FileDataBuilder shrink(*base);
  shrink.Resize(10);
  EXPECT_EQ(ReadAll(*shrink.Build()), original.substr(0, 10));
  EXPECT_EQ(ReadAll(*base), original);
}

}  // namespace
}  // namespace sftpgate::memory
