#include "server/backend/write_request_encoding.h"

#include <cstring>

#include "absl/base/macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "grpc/slice.h"
#include "grpcpp/support/slice.h"

namespace sftpgate::server::backend {
namespace {

using google::protobuf::io::CodedOutputStream;

// A field's tag: its number and wire type (protobuf's encoding guide).
constexpr uint8_t Tag(int field_number, int wire_type) {
  return static_cast<uint8_t>(field_number << 3 | wire_type);
}
constexpr int kVarint = 0;
constexpr int kLengthDelimited = 2;

// Every tag used here fits in one byte (field numbers below 16).
static_assert(v1::WriteRequest::kChunkFieldNumber < 16);
static_assert(v1::WriteRequest::kCommitFieldNumber < 16);
static_assert(v1::WriteChunk::kOffsetFieldNumber < 16);
static_assert(v1::WriteChunk::kDataFieldNumber < 16);

grpc::ByteBuffer OneSlice(grpc_slice slice) {
  grpc::Slice owned(slice, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&owned, 1);
}

}  // namespace

grpc::ByteBuffer EncodeWriteChunk(uint64_t offset, absl::string_view data) {
  const size_t chunk_size = 1 + CodedOutputStream::VarintSize64(offset) + 1 +
                            CodedOutputStream::VarintSize64(data.size()) +
                            data.size();
  const size_t total =
      1 + CodedOutputStream::VarintSize64(chunk_size) + chunk_size;
  grpc_slice slice = grpc_slice_malloc(total);
  uint8_t* p = GRPC_SLICE_START_PTR(slice);
  *p++ = Tag(v1::WriteRequest::kChunkFieldNumber, kLengthDelimited);
  p = CodedOutputStream::WriteVarint64ToArray(chunk_size, p);
  *p++ = Tag(v1::WriteChunk::kOffsetFieldNumber, kVarint);
  p = CodedOutputStream::WriteVarint64ToArray(offset, p);
  *p++ = Tag(v1::WriteChunk::kDataFieldNumber, kLengthDelimited);
  p = CodedOutputStream::WriteVarint64ToArray(data.size(), p);
  if (!data.empty()) std::memcpy(p, data.data(), data.size());
  ABSL_ASSERT(p + data.size() == GRPC_SLICE_END_PTR(slice));
  return OneSlice(slice);
}

grpc::ByteBuffer EncodeWriteCommit() {
  static constexpr uint8_t kCommit[] = {
      Tag(v1::WriteRequest::kCommitFieldNumber, kLengthDelimited), 0};
  return OneSlice(grpc_slice_from_static_buffer(kCommit, sizeof(kCommit)));
}

grpc::ByteBuffer EncodeWriteRequest(const v1::WriteRequest& message) {
  grpc_slice slice = grpc_slice_malloc(message.ByteSizeLong());
  message.SerializeWithCachedSizesToArray(GRPC_SLICE_START_PTR(slice));
  return OneSlice(slice);
}

}  // namespace sftpgate::server::backend
