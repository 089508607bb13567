// PacketWriter: builds one framed SFTP packet (uint32 length, type byte,
// fields) in a single string, so a reply is sent without further copies.
//
// Thread safety: a writer is used by one thread.

#ifndef SFTPGATE_SERVER_SFTP_PACKET_WRITER_H_
#define SFTPGATE_SERVER_SFTP_PACKET_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sftpgate::server::sftp {

class PacketWriter {
 public:
  // Starts a packet of `type`. `expected_size` (whole packet, bytes) is
  // reserved up front; pass the exact size for large payloads so they are
  // copied once.
  explicit PacketWriter(uint8_t type, size_t expected_size = 64);

  PacketWriter& U8(uint8_t value);
  PacketWriter& U32(uint32_t value);
  PacketWriter& U64(uint64_t value);
  // A uint32 length followed by the bytes.
  PacketWriter& String(absl::string_view value);
  // The bytes alone (e.g. the pieces of a payload whose length was
  // written already).
  PacketWriter& Raw(absl::string_view bytes);

  // Bytes written so far, including the length field.
  size_t size() const { return buffer_.size(); }

  // Fills in the length field and returns the framed packet. The writer
  // must not be used afterwards.
  std::string Finish() &&;

 private:
  std::string buffer_;
};

// Writes the kDataReplyOverhead bytes that start a DATA reply to request
// `id` carrying `length` bytes, which follow them in the same buffer: the
// reply is framed in front of a payload already in place
// (backend/data_chunk.h), without copying it.
void EncodeDataHeader(uint32_t id, uint32_t length, char* out);

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_PACKET_WRITER_H_
