// PacketFramer: splits the SFTP byte stream into packets.
//
// Each packet is a uint32 big-endian length followed by that many bytes
// (type byte, then fields). A length below 5 (a type byte and a uint32:
// the shortest valid request) or above the configured maximum makes the
// stream unusable: Next() reports kBadLength before anything is allocated
// for it. A packet that arrives whole in one input buffer is returned as a
// view of that buffer (no copy); only packets split across inputs are
// assembled in an internal buffer, at most one packet long.
//
// Thread safety: used by one thread.

#ifndef SFTPGATE_SERVER_SFTP_PACKET_FRAMER_H_
#define SFTPGATE_SERVER_SFTP_PACKET_FRAMER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sftpgate::server::sftp {

class PacketFramer {
 public:
  // Smallest valid packet length (type byte + uint32).
  static constexpr uint32_t kMinPacketLength = 5;

  explicit PacketFramer(uint32_t max_packet_length)
      : max_packet_length_(max_packet_length) {}

  enum class Result {
    kPacket,     // *body holds the next packet
    kNeedMore,   // all of *input was taken; no complete packet yet
    kBadLength,  // a length field is out of bounds; stop reading
  };

  // Takes bytes from the front of *input (advancing it). On kPacket, *body
  // views the packet body (type byte onward); the view stays valid until
  // the next call and, if it points into *input, while those bytes live.
  Result Next(absl::string_view* input, absl::string_view* body);

  // Bytes of an incomplete packet held in the internal buffer.
  size_t buffered() const { return emitted_ ? 0 : partial_.size(); }

 private:
  // Validates the length field; false when it is out of bounds.
  bool ValidLength(uint32_t length) const;
  // Moves up to `n` bytes from *input into partial_.
  void TakeInto(absl::string_view* input, size_t n);

  uint32_t max_packet_length_;
  std::string partial_;
  // partial_ holds a packet returned by the previous call.
  bool emitted_ = false;
  bool failed_ = false;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_PACKET_FRAMER_H_
