// PacketReader: bounds-checked decoding of one SFTP packet body.
//
// Every Read* returns false, and leaves the reader failed, when the field
// does not fit in what is left of the packet: a truncated integer, or a
// string whose length prefix is longer than the rest of the packet. Nothing
// is allocated or copied: strings are views into the packet.
//
// Thread safety: a reader is used by one thread; the viewed bytes must
// outlive it and the views it returns.

#ifndef SFTPGATE_SERVER_SFTP_PACKET_READER_H_
#define SFTPGATE_SERVER_SFTP_PACKET_READER_H_

#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"

namespace sftpgate::server::sftp {

class PacketReader {
 public:
  explicit PacketReader(absl::string_view data) : rest_(data) {}

  bool ReadU8(uint8_t* value);
  bool ReadU32(uint32_t* value);
  bool ReadU64(uint64_t* value);
  // A uint32 length followed by that many bytes.
  bool ReadString(absl::string_view* value);

  // False once any read failed; later reads fail too.
  bool ok() const { return ok_; }
  // Bytes not read yet.
  size_t remaining() const { return rest_.size(); }
  // The bytes not read yet (to keep a request's fields for later).
  absl::string_view rest() const { return rest_; }

 private:
  // Takes `n` bytes off the front, or fails the reader.
  bool Take(size_t n, absl::string_view* out);

  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_PACKET_READER_H_
