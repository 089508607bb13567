#include "server/sftp/packet_reader.h"

namespace sftpgate::server::sftp {
namespace {

uint64_t BigEndian(absl::string_view bytes) {
  uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

}  // namespace

bool PacketReader::Take(size_t n, absl::string_view* out) {
  if (!ok_ || rest_.size() < n) {
    ok_ = false;
    return false;
  }
  *out = rest_.substr(0, n);
  rest_.remove_prefix(n);
  return true;
}

bool PacketReader::ReadU8(uint8_t* value) {
  absl::string_view b;
  if (!Take(1, &b)) return false;
  *value = static_cast<uint8_t>(b[0]);
  return true;
}

bool PacketReader::ReadU32(uint32_t* value) {
  absl::string_view b;
  if (!Take(4, &b)) return false;
  *value = static_cast<uint32_t>(BigEndian(b));
  return true;
}

bool PacketReader::ReadU64(uint64_t* value) {
  absl::string_view b;
  if (!Take(8, &b)) return false;
  *value = BigEndian(b);
  return true;
}

bool PacketReader::ReadString(absl::string_view* value) {
  uint32_t length = 0;
  if (!ReadU32(&length)) return false;
  return Take(length, value);
}

}  // namespace sftpgate::server::sftp
