// Fuzz target: the SFTP request path of the front end's codec, as
// SftpSession uses it (server/sftp/session_impl.cc and handlers_*.cc).
//
// Input: byte 0 picks the framer's maximum packet length and how the rest
// is cut into channel reads; the rest is the client's byte stream.
//
// Checked:
// - The framer gives the same packets, and fails at the same point,
//   whether the stream arrives whole or in pieces; every packet is within
//   [5, max]; it takes all input when it asks for more.
// - Each packet decodes field by field exactly as the session decodes that
//   request type (the session has no separate per-type decoder, so the
//   field lists below mirror its handlers). Each integer and string field,
//   re-encoded with PacketWriter, gives back the bytes it was read from;
//   string views stay inside the packet; paths go through NormalizePath
//   and come out normalized; ATTRS decode and re-encode stably.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "fuzz_check.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/packet_framer.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/sftp_constants.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::sftp {
namespace {

enum class Field { kU32, kU64, kString, kPath, kHandle, kAttrs };

struct Schema {
  absl::string_view name;  // extension name, for EXTENDED requests
  uint8_t type;            // packet type, for the others
  std::vector<Field> fields;
};

using F = Field;

// The fields after the request id, per packet type, in handler order.
const std::vector<Schema>& Requests() {
  static const auto* const kRequests = new std::vector<Schema>{
      {"", kFxpOpen, {F::kPath, F::kU32, F::kAttrs}},
      {"", kFxpClose, {F::kHandle}},
      {"", kFxpRead, {F::kHandle, F::kU64, F::kU32}},
      {"", kFxpWrite, {F::kHandle, F::kU64, F::kString}},
      {"", kFxpLstat, {F::kPath}},
      {"", kFxpFstat, {F::kHandle}},
      {"", kFxpSetstat, {F::kPath, F::kAttrs}},
      {"", kFxpFsetstat, {F::kHandle, F::kAttrs}},
      {"", kFxpOpendir, {F::kPath}},
      {"", kFxpReaddir, {F::kHandle}},
      {"", kFxpRemove, {F::kPath}},
      {"", kFxpMkdir, {F::kPath, F::kAttrs}},
      {"", kFxpRmdir, {F::kPath}},
      {"", kFxpRealpath, {F::kPath}},
      {"", kFxpStat, {F::kPath}},
      {"", kFxpRename, {F::kPath, F::kPath}},
      {"", kFxpReadlink, {F::kPath}},
      // OpenSSH order: target (verbatim), then the link's path.
      {"", kFxpSymlink, {F::kString, F::kPath}},
  };
  return *kRequests;
}

// The fields after the extension name, per EXTENDED request.
const std::vector<Schema>& Extensions() {
  static const auto* const kExtensions = new std::vector<Schema>{
      {"posix-rename@openssh.com", 0, {F::kPath, F::kPath}},
      {"statvfs@openssh.com", 0, {F::kPath}},
      {"fstatvfs@openssh.com", 0, {F::kHandle}},
      {"hardlink@openssh.com", 0, {F::kPath, F::kPath}},
      {"fsync@openssh.com", 0, {F::kHandle}},
      {"lsetstat@openssh.com", 0, {F::kPath, F::kAttrs}},
      {"limits@openssh.com", 0, {}},
      {"expand-path@openssh.com", 0, {F::kString}},
      {"copy-data", 0, {F::kHandle, F::kU64, F::kU64, F::kHandle, F::kU64}},
      {"home-directory", 0, {F::kString}},
      {"users-groups-by-id@openssh.com", 0, {F::kString, F::kString}},
  };
  return *kExtensions;
}

// The field bytes a PacketWriter produces (the framed packet minus its
// length and type).
template <typename Fn>
std::string Encoded(Fn&& write) {
  PacketWriter out(0);
  write(out);
  return std::move(out).Finish().substr(5);
}

void CheckInside(absl::string_view outer, absl::string_view inner) {
  FUZZ_CHECK(inner.data() >= outer.data());
  FUZZ_CHECK(inner.data() + inner.size() <= outer.data() + outer.size());
}

void CheckNormalizedPath(absl::string_view raw) {
  absl::StatusOr<std::string> path = NormalizePath(raw);
  if (!path.ok()) {
    FUZZ_CHECK(raw.find('\0') != absl::string_view::npos || !IsValidUtf8(raw));
    return;
  }
  FUZZ_CHECK(IsNormalizedPath(*path));
}

void CheckAttrsRoundTrip(const v1::Attributes& attrs) {
  const std::string once =
      Encoded([&](PacketWriter& w) { EncodeAttributes(attrs, &w); });
  PacketReader again(once);
  v1::Attributes decoded;
  FUZZ_CHECK(DecodeAttributes(&again, &decoded));
  FUZZ_CHECK(again.remaining() == 0);
  FUZZ_CHECK(Encoded([&](PacketWriter& w) { EncodeAttributes(decoded, &w); }) ==
             once);
}

// Decodes one field; false when it does not fit (as the handler would
// answer BAD_MESSAGE).
bool DecodeField(Field field, absl::string_view body, PacketReader& in) {
  const size_t before = in.remaining();
  // The bytes this field was read from.
  auto consumed = [&] {
    const size_t start = body.size() - before;
    return body.substr(start, before - in.remaining());
  };
  switch (field) {
    case F::kU32: {
      uint32_t v = 0;
      if (!in.ReadU32(&v)) return false;
      FUZZ_CHECK(Encoded([&](PacketWriter& w) { w.U32(v); }) == consumed());
      return true;
    }
    case F::kU64: {
      uint64_t v = 0;
      if (!in.ReadU64(&v)) return false;
      FUZZ_CHECK(Encoded([&](PacketWriter& w) { w.U64(v); }) == consumed());
      return true;
    }
    case F::kString:
    case F::kPath:
    case F::kHandle: {
      absl::string_view v;
      if (!in.ReadString(&v)) return false;
      CheckInside(body, v);
      FUZZ_CHECK(Encoded([&](PacketWriter& w) { w.String(v); }) == consumed());
      if (field == F::kPath) CheckNormalizedPath(v);
      return true;
    }
    case F::kAttrs: {
      v1::Attributes attrs;
      if (!DecodeAttributes(&in, &attrs)) {
        FUZZ_CHECK(!in.ok());
        return false;
      }
      CheckAttrsRoundTrip(attrs);
      return true;
    }
  }
  return false;
}

const Schema* Find(const std::vector<Schema>& table, uint8_t type,
                   absl::string_view name) {
  for (const Schema& s : table) {
    if (s.type == type && s.name == name) return &s;
  }
  return nullptr;
}

// Decodes one packet body (type byte onward) the way the session does.
void DecodeRequest(absl::string_view body) {
  PacketReader in(body);
  uint8_t type = 0;
  uint32_t id_or_version = 0;
  // The framer guarantees the type and a uint32 (INIT's version, or the
  // request id): the session reads them unchecked.
  FUZZ_CHECK(in.ReadU8(&type));
  FUZZ_CHECK(in.ReadU32(&id_or_version));
  if (type == kFxpInit) return;
  const Schema* schema = nullptr;
  if (type == kFxpExtended) {
    absl::string_view name;
    if (!in.ReadString(&name)) return;
    CheckInside(body, name);
    schema = Find(Extensions(), 0, name);
  } else {
    schema = Find(Requests(), type, "");
  }
  if (schema == nullptr) return;  // OP_UNSUPPORTED
  for (Field f : schema->fields) {
    if (!DecodeField(f, body, in)) {
      // A failed reader stays failed.
      uint8_t byte = 0;
      FUZZ_CHECK(!in.ok() && !in.ReadU8(&byte));
      return;
    }
  }
  FUZZ_CHECK(in.ok());
}

// What a framer made of a stream: the packets and how it ended.
struct Framed {
  std::vector<std::string> packets;
  bool bad_length = false;
  size_t buffered = 0;
};

// Feeds `stream` to a new framer in pieces of the given sizes (cycled; 0
// means "all at once").
Framed Frame(absl::string_view stream, uint32_t max_length,
             const std::vector<size_t>& piece_sizes) {
  PacketFramer framer(max_length);
  Framed out;
  size_t piece = 0;
  while (!stream.empty() && !out.bad_length) {
    size_t n = piece_sizes[piece++ % piece_sizes.size()];
    if (n == 0 || n > stream.size()) n = stream.size();
    absl::string_view input = stream.substr(0, n);
    stream.remove_prefix(n);
    for (;;) {
      absl::string_view body;
      const PacketFramer::Result r = framer.Next(&input, &body);
      if (r == PacketFramer::Result::kBadLength) {
        out.bad_length = true;
        break;
      }
      if (r == PacketFramer::Result::kNeedMore) {
        FUZZ_CHECK(input.empty());
        break;
      }
      FUZZ_CHECK(body.size() >= PacketFramer::kMinPacketLength);
      FUZZ_CHECK(body.size() <= max_length);
      out.packets.emplace_back(body);
    }
  }
  out.buffered = out.bad_length ? 0 : framer.buffered();
  return out;
}

}  // namespace
}  // namespace sftpgate::server::sftp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sftpgate::server::sftp;  // NOLINT: fuzz entry point
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const absl::string_view stream(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  // The session's default maximum, and small ones so that the length
  // check is reached from short inputs too.
  static constexpr uint32_t kMaxLengths[] = {256 * 1024 + 1024, 5, 64, 4096};
  const uint32_t max_length = kMaxLengths[control & 3];
  // Piece sizes from the control byte: 1..8 bytes, cycled with 3 others.
  const size_t step = 1 + ((control >> 2) & 7);
  const std::vector<size_t> pieces = {step, 1, step * 5 + 2, 3};

  const Framed whole = Frame(stream, max_length, {0});
  const Framed cut = Frame(stream, max_length, pieces);
  FUZZ_CHECK(whole.packets == cut.packets);
  FUZZ_CHECK(whole.bad_length == cut.bad_length);
  FUZZ_CHECK(whole.buffered == cut.buffered);
  for (const std::string& body : whole.packets) DecodeRequest(body);
  return 0;
}
