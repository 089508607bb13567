// server/backend/write_request_encoding.h: the hand-encoded WriteRequests
// must parse, with protobuf's own parser, as the messages they stand for;
// and where protobuf's encoding is canonical (nonzero fields) they must be
// its very bytes.

#include "server/backend/write_request_encoding.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"

namespace sftpgate::server::backend {
namespace {

// The bytes, and how many slices held them.
std::string Flatten(const grpc::ByteBuffer& buffer, size_t* slice_count) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buffer.Dump(&slices).ok());
  *slice_count = slices.size();
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return bytes;
}

std::string Payload(size_t n) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>(i * 131 + 7);
  return data;
}

TEST(WriteRequestEncodingTest, ChunksParseAsTheSameMessage) {
  const uint64_t offsets[] = {0,
                              1,
                              127,
                              128,
                              16384,
                              uint64_t{1} << 32,
                              (uint64_t{1} << 63) + 5,
                              std::numeric_limits<uint64_t>::max()};
  // Lengths around each varint width, and the largest chunk (1 MiB).
  const size_t sizes[] = {0, 1, 127, 128, 16383, 16384, 261120, 1 << 20};
  for (uint64_t offset : offsets) {
    for (size_t size : sizes) {
      SCOPED_TRACE(testing::Message()
                   << "offset " << offset << " size " << size);
      const std::string data = Payload(size);
      size_t slice_count = 0;
      const std::string bytes =
          Flatten(EncodeWriteChunk(offset, data), &slice_count);
      EXPECT_EQ(slice_count, 1u);

      v1::WriteRequest parsed;
      ASSERT_TRUE(parsed.ParseFromString(bytes));
      ASSERT_EQ(parsed.kind_case(), v1::WriteRequest::kChunk);
      EXPECT_FALSE(parsed.has_session());
      EXPECT_EQ(parsed.chunk().offset(), offset);
      EXPECT_EQ(parsed.chunk().data(), data);

      v1::WriteRequest expected;
      expected.mutable_chunk()->set_offset(offset);
      expected.mutable_chunk()->set_data(data);
      if (offset != 0 && size != 0) {
        EXPECT_EQ(bytes, expected.SerializeAsString());
      }
    }
  }
}

TEST(WriteRequestEncodingTest, CommitIsAnEmptyCommitMessage) {
  size_t slice_count = 0;
  const std::string bytes = Flatten(EncodeWriteCommit(), &slice_count);
  v1::WriteRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.kind_case(), v1::WriteRequest::kCommit);
  v1::WriteRequest expected;
  expected.mutable_commit();
  EXPECT_EQ(bytes, expected.SerializeAsString());
}

TEST(WriteRequestEncodingTest, FirstMessageKeepsSessionAndHeader) {
  v1::WriteRequest first;
  first.mutable_session()->set_user("alice");
  first.mutable_session()->set_root("/home/alice");
  first.mutable_header()->set_path("/a/b.txt");
  first.mutable_header()->set_flags(v1::WriteHeader::FLAG_CREATE);
  first.mutable_header()->set_offset(42);
  size_t slice_count = 0;
  const std::string bytes = Flatten(EncodeWriteRequest(first), &slice_count);
  EXPECT_EQ(bytes, first.SerializeAsString());
}

}  // namespace
}  // namespace sftpgate::server::backend
