// Source addresses grouped into networks, for per-source limits: failed
// logins (AuthThrottle) and unauthenticated connections (StartupLimiter)
// are counted per network, not per address, because one IPv6 host owns a
// whole /64 and could otherwise dodge every per-address count.
//
// Plain values; thread-compatible.

#ifndef SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_
#define SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server {

// An IPv4 or IPv6 network: an address and a prefix length. IPv4-mapped
// IPv6 addresses (::ffff:a.b.c.d) are taken as the IPv4 address.
struct IpNetwork {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // the first 4 only for IPv4
  int prefix = 0;                   // 0..32 or 0..128

  // True when `address` (same family, full length) lies in this network.
  bool Contains(const IpNetwork& address) const;
  // "a.b.c.d/p" or "v6::/p", the address bits past the prefix zeroed.
  std::string ToString() const;
};

// Parses "ADDRESS" (a full-length network) or "ADDRESS/PREFIX".
absl::StatusOr<IpNetwork> ParseIpNetwork(absl::string_view text);

// Parses a comma-separated list of networks (spaces allowed; "" is empty).
absl::StatusOr<std::vector<IpNetwork>> ParseIpNetworkList(
    absl::string_view text);

// How source addresses are grouped.
struct SourceGrouping {
  int ipv4_prefix = 32;
  int ipv6_prefix = 64;

  // The network `host` (an address without port) counts in, as text:
  // "192.0.2.7/32", "2001:db8:1:2::/64". A host that does not parse is its
  // own group (its text).
  std::string KeyOf(absl::string_view host) const;
};

// True when `host` (an address without port) lies in one of `networks`.
bool InAnyNetwork(absl::string_view host,
                  const std::vector<IpNetwork>& networks);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_
