#include "server/ssh/proxy_header.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sftpgate::server {
namespace {

constexpr char kV2Signature[] = "\r\n\r\n\0\r\nQUIT\n";
constexpr size_t kV2SignatureLength = 12;
constexpr size_t kV2FixedLength = 16;
constexpr absl::string_view kV1Prefix = "PROXY ";
// Read before deciding the version: no header is shorter ("PROXY
// UNKNOWN\r\n" is 15 bytes, a v2 header 16).
constexpr size_t kSniffLength = kV2SignatureLength;

uint16_t Be16(const std::string& b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) |
                               static_cast<uint8_t>(b[at + 1]));
}

// A canonical v1 port: 0-65535, decimal, no leading zero.
bool ParsePort(absl::string_view text, uint16_t* port) {
  uint32_t value = 0;
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0') ||
      text.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(text, &value) || value > 65535) {
    return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

// Parses `text` as an address of `family`, and requires it to be written
// the canonical way the spec demands (inet_ntop prints it back the same).
bool CanonicalAddress(int family, absl::string_view text, std::string* out) {
  unsigned char raw[16];
  std::string copy(text);
  if (inet_pton(family, copy.c_str(), raw) != 1) return false;
  char printed[INET6_ADDRSTRLEN];
  inet_ntop(family, raw, printed, sizeof(printed));
  // IPv6 may be written in any valid form (the spec allows zero
  // compression choices); IPv4 must be dotted decimal without zeros.
  if (family == AF_INET && copy != printed) return false;
  *out = printed;
  return true;
}

}  // namespace

size_t ProxyHeader::Wanted() const {
  if (state_ != State::kNeedMore) return 0;
  if (buffer_.size() < kSniffLength) return kSniffLength - buffer_.size();
  if (version_ == 1) return 1;  // up to CRLF, never past it
  if (buffer_.size() < kV2FixedLength) return kV2FixedLength - buffer_.size();
  return kV2FixedLength + Be16(buffer_, 14) - buffer_.size();
}

ProxyHeader::State ProxyHeader::Fail(std::string error) {
  error_ = std::move(error);
  state_ = State::kError;
  return state_;
}

ProxyHeader::State ProxyHeader::Feed(absl::string_view bytes) {
  if (state_ != State::kNeedMore) return state_;
  buffer_.append(bytes.data(), bytes.size());
  if (buffer_.size() < kSniffLength) return state_;
  if (version_ == 0) {
    if (absl::string_view(buffer_).substr(0, kV1Prefix.size()) == kV1Prefix) {
      version_ = 1;
    } else if (std::memcmp(buffer_.data(), kV2Signature, kV2SignatureLength) ==
               0) {
      version_ = 2;
    } else {
      return Fail("no PROXY protocol header");
    }
  }
  return version_ == 1 ? ParseV1() : ParseV2();
}

ProxyHeader::State ProxyHeader::ParseV1() {
  const size_t end = buffer_.find("\r\n");
  if (end == std::string::npos) {
    if (buffer_.size() >= kMaxV1Length) {
      return Fail("v1 header without CRLF in 107 bytes");
    }
    return state_;
  }
  if (end + 2 != buffer_.size()) return Fail("v1 header: bytes after CRLF");
  std::vector<absl::string_view> fields =
      absl::StrSplit(absl::string_view(buffer_).substr(0, end), ' ');
  // fields[0] is "PROXY".
  if (fields.size() >= 2 && fields[1] == "UNKNOWN") {
    // The rest of the line is to be ignored.
    state_ = State::kDone;
    return state_;
  }
  if (fields.size() != 6) return Fail("v1 header: wrong number of fields");
  int family = 0;
  if (fields[1] == "TCP4") {
    family = AF_INET;
  } else if (fields[1] == "TCP6") {
    family = AF_INET6;
  } else {
    return Fail("v1 header: unknown protocol");
  }
  std::string source, destination;
  uint16_t source_port = 0, destination_port = 0;
  if (!CanonicalAddress(family, fields[2], &source) ||
      !CanonicalAddress(family, fields[3], &destination) ||
      !ParsePort(fields[4], &source_port) ||
      !ParsePort(fields[5], &destination_port)) {
    return Fail("v1 header: bad address or port");
  }
  source_ = family == AF_INET6 ? absl::StrCat("[", source, "]:", source_port)
                               : absl::StrCat(source, ":", source_port);
  state_ = State::kDone;
  return state_;
}

ProxyHeader::State ProxyHeader::ParseV2() {
  if (buffer_.size() < kV2FixedLength) return state_;
  const uint8_t version_command = static_cast<uint8_t>(buffer_[12]);
  const uint8_t family_protocol = static_cast<uint8_t>(buffer_[13]);
  const size_t length = Be16(buffer_, 14);
  if ((version_command >> 4) != 2) return Fail("v2 header: bad version");
  const uint8_t command = version_command & 0x0f;
  if (command > 1) return Fail("v2 header: unknown command");
  if (kV2FixedLength + length > kMaxV2Length) {
    return Fail(absl::StrCat("v2 header: ", kV2FixedLength + length,
                             " bytes, more than ", kMaxV2Length));
  }
  if (buffer_.size() < kV2FixedLength + length) return state_;
  state_ = State::kDone;
  // LOCAL: the balancer's own connection (health check); addresses, if
  // any, are ignored.
  if (command == 0) return state_;
  const uint8_t family = family_protocol >> 4;
  const uint8_t protocol = family_protocol & 0x0f;
  if (protocol > 2 || family > 3) {
    return Fail("v2 header: unknown address family or protocol");
  }
  if (family == 0) return state_;  // UNSPEC: keep the socket's address
  if (protocol != 1 || (family != 1 && family != 2)) {
    return Fail("v2 header: not a TCP over IPv4/IPv6 connection");
  }
  const size_t address_length = family == 1 ? 12 : 36;
  if (length < address_length) {
    return Fail("v2 header: address block too short");
  }
  const char* addresses = buffer_.data() + kV2FixedLength;
  char printed[INET6_ADDRSTRLEN];
  if (family == 1) {
    inet_ntop(AF_INET, addresses, printed, sizeof(printed));
    source_ = absl::StrCat(printed, ":", Be16(buffer_, kV2FixedLength + 8));
  } else {
    inet_ntop(AF_INET6, addresses, printed, sizeof(printed));
    source_ =
        absl::StrCat("[", printed, "]:", Be16(buffer_, kV2FixedLength + 32));
  }
  return state_;
}

}  // namespace sftpgate::server
