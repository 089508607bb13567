#include "server/config/source_networks.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sftpgate::server {

absl::StatusOr<SourceNetworks> SourceNetworks::Parse(absl::string_view list) {
  SourceNetworks result;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (entry.empty()) continue;
    auto bad = [&](absl::string_view why) {
      return absl::InvalidArgumentError(
          absl::StrCat("network \"", entry, "\": ", why));
    };
    Network network;
    const size_t slash = entry.find('/');
    const std::string address(entry.substr(0, slash));
    if (inet_pton(AF_INET, address.c_str(), network.bytes.data()) == 1) {
      network.v4 = true;
    } else if (inet_pton(AF_INET6, address.c_str(), network.bytes.data()) !=
               1) {
      return bad("not an IPv4 or IPv6 address");
    }
    const int bits = network.v4 ? 32 : 128;
    network.prefix = bits;
    if (slash != absl::string_view::npos &&
        (!absl::SimpleAtoi(entry.substr(slash + 1), &network.prefix) ||
         network.prefix < 0 || network.prefix > bits)) {
      return bad(absl::StrCat("prefix length must be 0-", bits));
    }
    // Host bits set ("10.0.0.1/8") are most likely a typo: refuse.
    for (int bit = network.prefix; bit < bits; ++bit) {
      if (network.bytes[bit / 8] & (0x80 >> (bit % 8))) {
        return bad("address has bits set past the prefix length");
      }
    }
    result.networks_.push_back(network);
  }
  return result;
}

bool SourceNetworks::Matches(const Network& network, bool v4,
                             const uint8_t* bytes) {
  if (network.v4 != v4) return false;
  const int whole = network.prefix / 8;
  if (std::memcmp(network.bytes.data(), bytes, whole) != 0) return false;
  const int rest = network.prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return (network.bytes[whole] & mask) == (bytes[whole] & mask);
}

bool SourceNetworks::Contains(const sockaddr_storage& address) const {
  bool v4 = false;
  const uint8_t* bytes = nullptr;
  if (address.ss_family == AF_INET) {
    v4 = true;
    bytes = reinterpret_cast<const uint8_t*>(
        &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr);
  } else if (address.ss_family == AF_INET6) {
    const in6_addr* in6 =
        &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr;
    bytes = reinterpret_cast<const uint8_t*>(in6);
    if (IN6_IS_ADDR_V4MAPPED(in6)) {
      v4 = true;
      bytes += 12;
    }
  } else {
    return false;
  }
  for (const Network& network : networks_) {
    if (Matches(network, v4, bytes)) return true;
  }
  return false;
}

}  // namespace sftpgate::server
