// IP networks, the one parser and matcher for every address list in the
// settings: the networks exempt from login bans, the proxies allowed to
// send a PROXY protocol header, and the grouping of source addresses for
// per-source limits (failed logins in AuthThrottle, unauthenticated
// connections in StartupLimiter are counted per network, not per address,
// because one IPv6 host owns a whole /64 and could otherwise dodge every
// per-address count).
//
// Plain values; thread-compatible (SourceNetworks: immutable after Parse,
// Contains from any thread).

#ifndef SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_
#define SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_

#include <sys/socket.h>

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
// InvalidArgumentError names the entry: not an address, a prefix longer
// than the address, or address bits set past the prefix ("10.0.0.1/8" is
// most likely a typo for a host or for 10.0.0.0/8: refused, not guessed).
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

// An allow-list of networks matched against socket peers, e.g. the load
// balancers allowed to send a PROXY protocol header.
class SourceNetworks {
 public:
  // A comma-separated list as ParseIpNetworkList takes it.
  static absl::StatusOr<SourceNetworks> Parse(absl::string_view list);

  // Whether `address` (AF_INET or AF_INET6; an IPv4-mapped IPv6 address
  // counts as its IPv4 address; any other family: false) lies in one of
  // the networks.
  bool Contains(const sockaddr_storage& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  std::vector<IpNetwork> networks_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_IP_NETWORKS_H_
