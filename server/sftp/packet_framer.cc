#include "server/sftp/packet_framer.h"

#include <algorithm>

namespace sftpgate::server::sftp {
namespace {

uint32_t LengthField(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) |
         (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

}  // namespace

bool PacketFramer::ValidLength(uint32_t length) const {
  return length >= kMinPacketLength && length <= max_packet_length_;
}

void PacketFramer::TakeInto(absl::string_view* input, size_t n) {
  n = std::min(n, input->size());
  partial_.append(input->data(), n);
  input->remove_prefix(n);
}

PacketFramer::Result PacketFramer::Next(absl::string_view* input,
                                        absl::string_view* body) {
  if (failed_) return Result::kBadLength;
  if (emitted_) {
    partial_.clear();
    emitted_ = false;
  }
  if (partial_.empty() && input->size() >= 4) {
    // Fast path: the packet may lie whole in the input.
    const uint32_t length = LengthField(input->data());
    if (!ValidLength(length)) {
      failed_ = true;
      return Result::kBadLength;
    }
    if (input->size() - 4 >= length) {
      *body = input->substr(4, length);
      input->remove_prefix(4 + size_t{length});
      return Result::kPacket;
    }
    partial_.reserve(4 + size_t{length});
    TakeInto(input, input->size());
    return Result::kNeedMore;
  }
  if (partial_.size() < 4) {
    TakeInto(input, 4 - partial_.size());
    if (partial_.size() < 4) return Result::kNeedMore;
    const uint32_t length = LengthField(partial_.data());
    if (!ValidLength(length)) {
      failed_ = true;
      return Result::kBadLength;
    }
    partial_.reserve(4 + size_t{length});
  }
  const size_t total = 4 + size_t{LengthField(partial_.data())};
  TakeInto(input, total - partial_.size());
  if (partial_.size() < total) return Result::kNeedMore;
  emitted_ = true;
  *body = absl::string_view(partial_).substr(4);
  return Result::kPacket;
}

}  // namespace sftpgate::server::sftp
