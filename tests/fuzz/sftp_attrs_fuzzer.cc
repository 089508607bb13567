// Fuzz target: the ATTRS codec and the long-name formatter
// (server/sftp/attributes_codec.h, long_name.h).
//
// The same input is used twice:
// - as wire ATTRS from a client: decode -> encode -> decode must give the
//   same message and the same bytes again, and a failed decode leaves the
//   reader failed;
// - as a serialized sftpgate.v1.Attributes from a backend (any values:
//   negative or huge times, odd modes): encode -> decode -> encode must be
//   stable, and its long name must format without crashing.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "fuzz_check.h"
#include "google/protobuf/stubs/logging.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/long_name.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/packet_writer.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {
namespace {

// A fixed "now" (2023-11-14) so that runs are reproducible.
constexpr int64_t kNow = 1700000000;

std::string Encode(const v1::Attributes& attrs) {
  PacketWriter out(0);
  EncodeAttributes(attrs, &out);
  return std::move(out).Finish().substr(5);  // minus length and type
}

// Decodes bytes that must be a whole, valid ATTRS.
v1::Attributes DecodeAll(absl::string_view bytes) {
  PacketReader in(bytes);
  v1::Attributes attrs;
  FUZZ_CHECK(DecodeAttributes(&in, &attrs));
  FUZZ_CHECK(in.ok() && in.remaining() == 0);
  return attrs;
}

void FromClient(absl::string_view wire) {
  PacketReader in(wire);
  v1::Attributes first;
  if (!DecodeAttributes(&in, &first)) {
    FUZZ_CHECK(!in.ok());
    return;
  }
  FUZZ_CHECK(in.ok() && in.remaining() <= wire.size());
  // Everything a client can send survives the trip unchanged: v3 carries
  // exactly these fields, and both ids and both times come in pairs.
  const std::string encoded = Encode(first);
  const v1::Attributes second = DecodeAll(encoded);
  FUZZ_CHECK(second.SerializeAsString() == first.SerializeAsString());
  FUZZ_CHECK(Encode(second) == encoded);
  FormatLongName("name", first, kNow);
}

void FromBackend(absl::string_view serialized) {
  v1::Attributes attrs;
  if (!attrs.ParseFromArray(serialized.data(),
                            static_cast<int>(serialized.size()))) {
    return;
  }
  const std::string encoded = Encode(attrs);
  const v1::Attributes decoded = DecodeAll(encoded);
  FUZZ_CHECK(Encode(decoded) == encoded);
  if (attrs.has_size()) FUZZ_CHECK(decoded.size() == attrs.size());
  if (attrs.has_mode()) FUZZ_CHECK(decoded.mode() == attrs.mode());
  const std::string long_name = FormatLongName("entry", attrs, kNow);
  FUZZ_CHECK(long_name.size() >= 10);
  FUZZ_CHECK(long_name.substr(0, 10) == ModeString(attrs.mode()));
}

}  // namespace
}  // namespace sftpgate::server::sftp

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Most inputs are not valid protobuf (e.g. invalid UTF-8 in a string):
  // protobuf would log each one.
  static const bool kQuiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)kQuiet;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  sftpgate::server::sftp::FromClient(bytes);
  sftpgate::server::sftp::FromBackend(bytes);
  return 0;
}
