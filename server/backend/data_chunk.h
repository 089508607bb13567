// DataChunk: one ReadChunk of a Read stream (proto/sftpgate/v1/backend.proto)
// as the front end holds it: the file offset and the data, kept in a buffer
// with spare room in front of the data.
//
// The download path reads the Read call as raw bytes (backend_stub.h) and
// decodes each message here, copying the payload once, from gRPC's receive
// slices into the buffer. The room in front is where the SFTP DATA reply
// frames its header (replier.h), so the buffer itself goes out on the SSH
// channel: decoding into a protobuf message and then assembling the reply
// copied the payload twice. scp sends the data part of the buffer as is.
//
// Thread safety: a value type; one thread at a time.

#ifndef SFTPGATE_SERVER_BACKEND_DATA_CHUNK_H_
#define SFTPGATE_SERVER_BACKEND_DATA_CHUNK_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "grpcpp/support/byte_buffer.h"

namespace sftpgate::server::backend {

class DataChunk {
 public:
  // Spare bytes every chunk starts with: an SFTP DATA reply's header
  // (uint32 length, type byte, uint32 request id, uint32 data length).
  static constexpr size_t kHeadroom = 4 + 1 + 4 + 4;

  // An empty chunk at offset 0.
  DataChunk() = default;
  // A chunk holding a copy of `data` at `offset`.
  DataChunk(uint64_t offset, absl::string_view data);
  // A chunk holding a copy of `pieces` concatenated, at `offset`.
  static DataChunk Join(uint64_t offset,
                        absl::Span<const absl::string_view> pieces);

  DataChunk(DataChunk&&) = default;
  DataChunk& operator=(DataChunk&&) = default;

  // File offset of data()[0].
  uint64_t offset() const { return offset_; }
  absl::string_view data() const {
    return absl::string_view(buffer_).substr(start_);
  }
  size_t size() const { return buffer_.size() - start_; }
  bool empty() const { return size() == 0; }

  // Drops the first `n` (<= size()) bytes of data: offset() moves on by
  // `n`, nothing is copied (the room in front grows).
  void RemovePrefix(size_t n);

  // Spare bytes in front of data() in the buffer (>= kHeadroom once a
  // chunk holds data).
  size_t headroom() const { return start_; }

  // Gives the buffer away: headroom() spare bytes, then data(). The chunk
  // is empty afterwards.
  std::string TakeBuffer() &&;

 private:
  friend bool DecodeReadChunk(const grpc::ByteBuffer& bytes, DataChunk* chunk);

  uint64_t offset_ = 0;
  std::string buffer_;
  size_t start_ = 0;
};

// Decodes `bytes`, one encoded ReadChunk message, into `chunk`, as protobuf
// parses it: fields in any order, the last occurrence of a field wins,
// unknown fields (and known ones of another wire type) skipped. False if
// `bytes` is not a well-formed message (a truncated field, a field number
// 0, a varint longer than ten bytes) or holds a group (deprecated; proto3
// cannot declare one; protobuf would skip it); `chunk` is then unspecified.
bool DecodeReadChunk(const grpc::ByteBuffer& bytes, DataChunk* chunk);

// What a stream of raw ReadChunk messages delivers (grpc_incoming_stream.h).
inline bool FromWire(grpc::ByteBuffer* wire, DataChunk* out) {
  return DecodeReadChunk(*wire, out);
}

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_DATA_CHUNK_H_
