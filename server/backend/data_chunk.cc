#include "server/backend/data_chunk.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "grpcpp/support/slice.h"

namespace sftpgate::server::backend {
namespace {

// Reads bytes across the slices of a received message, front to back.
class SliceReader {
 public:
  explicit SliceReader(const std::vector<grpc::Slice>& slices)
      : slices_(slices) {
    for (const grpc::Slice& s : slices_) left_ += s.size();
  }

  size_t left() const { return left_; }

  bool ReadVarint(uint64_t* value) {
    *value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (left_ == 0) return false;
      const uint8_t byte = Current()[0];
      Advance(1);
      *value |= uint64_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;  // more than ten bytes
  }

  // Skips `n` bytes; false (and nothing skipped) if fewer are left.
  bool Skip(uint64_t n) {
    if (n > left_) return false;
    while (n > 0) {
      const size_t take = std::min<uint64_t>(n, Here());
      Advance(take);
      n -= take;
    }
    return true;
  }

  // Appends the next `n` bytes to `out`; false if fewer are left.
  bool AppendTo(uint64_t n, std::string* out) {
    if (n > left_) return false;
    while (n > 0) {
      const size_t take = std::min<uint64_t>(n, Here());
      out->append(reinterpret_cast<const char*>(Current()), take);
      Advance(take);
      n -= take;
    }
    return true;
  }

 private:
  // Bytes left in the current slice (> 0 whenever left_ > 0).
  size_t Here() {
    while (slices_[index_].size() == used_) {
      ++index_;
      used_ = 0;
    }
    return slices_[index_].size() - used_;
  }
  const uint8_t* Current() {
    Here();
    return slices_[index_].begin() + used_;
  }
  void Advance(size_t n) {
    used_ += n;
    left_ -= n;
  }

  const std::vector<grpc::Slice>& slices_;
  size_t index_ = 0;
  size_t used_ = 0;
  size_t left_ = 0;
};

// Protobuf wire types.
constexpr uint64_t kVarint = 0, kFixed64 = 1, kLengthDelimited = 2,
                   kFixed32 = 5;
// ReadChunk's fields.
constexpr uint64_t kOffsetField = 1, kDataField = 2;

}  // namespace

DataChunk::DataChunk(uint64_t offset, absl::string_view data)
    : DataChunk(Join(offset, {data})) {}

DataChunk DataChunk::Join(uint64_t offset,
                          absl::Span<const absl::string_view> pieces) {
  size_t total = 0;
  for (absl::string_view p : pieces) total += p.size();
  DataChunk chunk;
  chunk.offset_ = offset;
  chunk.start_ = kHeadroom;
  chunk.buffer_.reserve(kHeadroom + total);
  chunk.buffer_.append(kHeadroom, '\0');
  for (absl::string_view p : pieces) chunk.buffer_.append(p.data(), p.size());
  return chunk;
}

void DataChunk::RemovePrefix(size_t n) {
  n = std::min(n, size());
  start_ += n;
  offset_ += n;
}

std::string DataChunk::TakeBuffer() && {
  std::string buffer = std::move(buffer_);
  buffer_.clear();
  start_ = 0;
  return buffer;
}

bool DecodeReadChunk(const grpc::ByteBuffer& bytes, DataChunk* chunk) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) return false;
  SliceReader in(slices);
  chunk->offset_ = 0;
  chunk->start_ = DataChunk::kHeadroom;
  chunk->buffer_.assign(DataChunk::kHeadroom, '\0');
  while (in.left() > 0) {
    uint64_t tag = 0;
    if (!in.ReadVarint(&tag) || tag > UINT32_MAX) return false;
    const uint64_t field = tag >> 3, type = tag & 7;
    if (field == 0) return false;
    uint64_t value = 0;
    switch (type) {
      case kVarint:
        if (!in.ReadVarint(&value)) return false;
        if (field == kOffsetField) chunk->offset_ = value;
        break;
      case kFixed64:
        if (!in.Skip(8)) return false;
        break;
      case kFixed32:
        if (!in.Skip(4)) return false;
        break;
      case kLengthDelimited:
        if (!in.ReadVarint(&value) || value > in.left()) return false;
        if (field == kDataField) {
          // The last occurrence wins. Reserved exactly: a 256 KiB chunk
          // is one allocation, filled without zeroing it first.
          chunk->buffer_.resize(DataChunk::kHeadroom);
          chunk->buffer_.reserve(DataChunk::kHeadroom + value);
          in.AppendTo(value, &chunk->buffer_);
        } else {
          in.Skip(value);
        }
        break;
      default:  // groups (3, 4) and the unused types 6, 7
        return false;
    }
  }
  return true;
}

}  // namespace sftpgate::server::backend
