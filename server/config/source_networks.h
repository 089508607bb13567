// SourceNetworks: an allow-list of IP networks ("10.0.0.0/8",
// "2001:db8::/32", a bare address meaning one host), e.g. the load
// balancers allowed to send a PROXY protocol header.
//
// Thread safety: immutable after Parse(); Contains() from any thread.

#ifndef SFTPGATE_SERVER_CONFIG_SOURCE_NETWORKS_H_
#define SFTPGATE_SERVER_CONFIG_SOURCE_NETWORKS_H_

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::server {

class SourceNetworks {
 public:
  // A comma-separated list of networks; blanks around entries are ignored.
  // InvalidArgumentError names the bad entry (bad address, prefix longer
  // than the address, bits set past the prefix).
  static absl::StatusOr<SourceNetworks> Parse(absl::string_view list);

  // Whether `address` (AF_INET or AF_INET6; an IPv4-mapped IPv6 address
  // counts as its IPv4 address) lies in one of the networks.
  bool Contains(const sockaddr_storage& address) const;
  bool empty() const { return networks_.empty(); }

 private:
  struct Network {
    bool v4 = false;
    std::array<uint8_t, 16> bytes{};  // v4: the first 4 bytes
    int prefix = 0;
  };
  static bool Matches(const Network& network, bool v4, const uint8_t* bytes);

  std::vector<Network> networks_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_SOURCE_NETWORKS_H_
