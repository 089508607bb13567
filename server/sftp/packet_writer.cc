#include "server/sftp/packet_writer.h"

#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

void PutBigEndian(uint64_t value, int bytes, char* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

}  // namespace

PacketWriter::PacketWriter(uint8_t type, size_t expected_size) {
  buffer_.reserve(expected_size < 5 ? 5 : expected_size);
  buffer_.append(4, '\0');  // length, patched by Finish()
  buffer_.push_back(static_cast<char>(type));
}

PacketWriter& PacketWriter::U8(uint8_t value) {
  buffer_.push_back(static_cast<char>(value));
  return *this;
}

PacketWriter& PacketWriter::U32(uint32_t value) {
  char b[4];
  PutBigEndian(value, 4, b);
  buffer_.append(b, 4);
  return *this;
}

PacketWriter& PacketWriter::U64(uint64_t value) {
  char b[8];
  PutBigEndian(value, 8, b);
  buffer_.append(b, 8);
  return *this;
}

PacketWriter& PacketWriter::String(absl::string_view value) {
  U32(static_cast<uint32_t>(value.size()));
  buffer_.append(value.data(), value.size());
  return *this;
}

PacketWriter& PacketWriter::Raw(absl::string_view bytes) {
  buffer_.append(bytes.data(), bytes.size());
  return *this;
}

std::string PacketWriter::Finish() && {
  PutBigEndian(buffer_.size() - 4, 4, buffer_.data());
  return std::move(buffer_);
}

void EncodeDataHeader(uint32_t id, uint32_t length, char* out) {
  // uint32 packet length (everything after it), type, id, data length.
  PutBigEndian(kDataReplyOverhead - 4 + uint64_t{length}, 4, out);
  out[4] = static_cast<char>(kFxpData);
  PutBigEndian(id, 4, out + 5);
  PutBigEndian(length, 4, out + 9);
}

}  // namespace sftpgate::server::sftp
