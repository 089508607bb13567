#include "server/config/ip_networks.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sftpgate::server {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0,    0,
                                       0, 0, 0, 0, 0xff, 0xff};

// Makes `out` the full-length network of an IPv6 address (16 bytes), or
// of the IPv4 address it maps.
void SetV6(const uint8_t* bytes, IpNetwork* out) {
  out->bytes.fill(0);
  if (std::memcmp(bytes, kMappedPrefix, 12) == 0) {
    std::memcpy(out->bytes.data(), bytes + 12, 4);
    out->v6 = false;
    out->prefix = 32;
    return;
  }
  std::memcpy(out->bytes.data(), bytes, 16);
  out->v6 = true;
  out->prefix = 128;
}

// A full-length network for `text`, an address without prefix.
bool ParseAddress(absl::string_view text, IpNetwork* out) {
  std::string address(text);
  if (inet_pton(AF_INET, address.c_str(), out->bytes.data()) == 1) {
    out->v6 = false;
    out->prefix = 32;
    return true;
  }
  std::array<uint8_t, 16> v6;
  if (inet_pton(AF_INET6, address.c_str(), v6.data()) != 1) return false;
  SetV6(v6.data(), out);
  return true;
}

// Zeroes the bits of `network` past its prefix.
void Mask(IpNetwork* network) {
  const int length = network->v6 ? 16 : 4;
  for (int i = 0; i < length; ++i) {
    const int keep = std::min(8, std::max(0, network->prefix - 8 * i));
    network->bytes[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
}

}  // namespace

bool IpNetwork::Contains(const IpNetwork& address) const {
  if (address.v6 != v6) return false;
  IpNetwork masked = address;
  masked.prefix = prefix;
  Mask(&masked);
  IpNetwork self = *this;
  Mask(&self);
  return masked.bytes == self.bytes;
}

std::string IpNetwork::ToString() const {
  IpNetwork masked = *this;
  Mask(&masked);
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(v6 ? AF_INET6 : AF_INET, masked.bytes.data(), text, sizeof(text));
  return absl::StrCat(text, "/", prefix);
}

absl::StatusOr<IpNetwork> ParseIpNetwork(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(text, absl::MaxSplits('/', 1));
  IpNetwork network;
  if (!ParseAddress(parts.first, &network)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" is not an IP address or network"));
  }
  if (text.find('/') != absl::string_view::npos) {
    int prefix = -1;
    const int max = network.v6 ? 128 : 32;
    if (!absl::SimpleAtoi(parts.second, &prefix) || prefix < 0 ||
        prefix > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", text, "\": the prefix length must be 0 to ", max));
    }
    network.prefix = prefix;
  }
  IpNetwork masked = network;
  Mask(&masked);
  if (masked.bytes != network.bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", text, "\": the address has bits set past the prefix length"));
  }
  return network;
}

absl::StatusOr<std::vector<IpNetwork>> ParseIpNetworkList(
    absl::string_view text) {
  std::vector<IpNetwork> networks;
  for (absl::string_view item :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    absl::StatusOr<IpNetwork> network = ParseIpNetwork(item);
    if (!network.ok()) return network.status();
    networks.push_back(*network);
  }
  return networks;
}

std::string SourceGrouping::KeyOf(absl::string_view host) const {
  IpNetwork network;
  if (!ParseAddress(host, &network)) return std::string(host);
  network.prefix = network.v6 ? ipv6_prefix : ipv4_prefix;
  return network.ToString();
}

bool InAnyNetwork(absl::string_view host,
                  const std::vector<IpNetwork>& networks) {
  IpNetwork address;
  if (!ParseAddress(host, &address)) return false;
  for (const IpNetwork& network : networks) {
    if (network.Contains(address)) return true;
  }
  return false;
}

absl::StatusOr<SourceNetworks> SourceNetworks::Parse(absl::string_view list) {
  absl::StatusOr<std::vector<IpNetwork>> networks = ParseIpNetworkList(list);
  if (!networks.ok()) return networks.status();
  SourceNetworks result;
  result.networks_ = *std::move(networks);
  return result;
}

bool SourceNetworks::Contains(const sockaddr_storage& address) const {
  IpNetwork peer;
  if (address.ss_family == AF_INET) {
    std::memcpy(peer.bytes.data(),
                &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, 4);
    peer.prefix = 32;
  } else if (address.ss_family == AF_INET6) {
    SetV6(reinterpret_cast<const uint8_t*>(
              &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr),
          &peer);
  } else {
    return false;
  }
  for (const IpNetwork& network : networks_) {
    if (network.Contains(peer)) return true;
  }
  return false;
}

}  // namespace sftpgate::server
