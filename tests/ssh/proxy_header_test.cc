// ProxyHeader (PROXY protocol v1/v2 parser) and SourceNetworks (the
// allow-list of proxies): exact parsing, never reading past the header,
// and refusal of malformed, truncated and oversized headers.

#include "server/ssh/proxy_header.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <string>

#include "gtest/gtest.h"
#include "server/config/ip_networks.h"

namespace sftpgate::server {
namespace {

using State = ProxyHeader::State;

const std::string kV2Signature("\r\n\r\n\0\r\nQUIT\n", 12);

// Feeds `bytes` as a socket reader would: never more than Wanted().
// Returns how many bytes were consumed.
size_t FeedLikeSocket(ProxyHeader& header, const std::string& bytes) {
  size_t used = 0;
  while (header.state() == State::kNeedMore && used < bytes.size()) {
    size_t n = std::min(header.Wanted(), bytes.size() - used);
    header.Feed(absl::string_view(bytes).substr(used, n));
    used += n;
  }
  return used;
}

std::string V2(uint8_t command, uint8_t family, const std::string& body) {
  std::string h = kV2Signature;
  h += static_cast<char>(0x20 | command);
  h += static_cast<char>(family);
  h += static_cast<char>(body.size() >> 8);
  h += static_cast<char>(body.size() & 0xff);
  return h + body;
}

std::string V4Body(const char* src, uint16_t sport, const char* dst,
                   uint16_t dport) {
  std::string body(12, '\0');
  inet_pton(AF_INET, src, body.data());
  inet_pton(AF_INET, dst, body.data() + 4);
  body[8] = static_cast<char>(sport >> 8);
  body[9] = static_cast<char>(sport & 0xff);
  body[10] = static_cast<char>(dport >> 8);
  body[11] = static_cast<char>(dport & 0xff);
  return body;
}

TEST(ProxyHeaderTest, V1Tcp4StopsAtCrlf) {
  ProxyHeader header;
  const std::string line = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 22\r\n";
  const size_t used = FeedLikeSocket(header, line + "SSH-2.0-client\r\n");
  EXPECT_EQ(header.state(), State::kDone) << header.error();
  EXPECT_EQ(used, line.size());  // the SSH banner stays in the socket
  EXPECT_EQ(header.source(), "192.0.2.1:56324");
  EXPECT_EQ(header.version(), 1);
}

TEST(ProxyHeaderTest, V1Tcp6AndUnknown) {
  ProxyHeader six;
  FeedLikeSocket(six, "PROXY TCP6 2001:db8::1 2001:db8::2 4000 22\r\n");
  EXPECT_EQ(six.state(), State::kDone) << six.error();
  EXPECT_EQ(six.source(), "[2001:db8::1]:4000");
  ProxyHeader unknown;
  FeedLikeSocket(unknown, "PROXY UNKNOWN whatever follows\r\n");
  EXPECT_EQ(unknown.state(), State::kDone);
  EXPECT_EQ(unknown.source(), "");
}

TEST(ProxyHeaderTest, V1Malformed) {
  for (const std::string& line : {
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 65536 22\r\n"),
           std::string("PROXY TCP4 1.2.3.4 5.6.7.8 01 22\r\n"),
           std::string("PROXY TCP4 01.2.3.4 5.6.7.8 1 22\r\n"),
           std::string("PROXY TCP4 2001:db8::1 5.6.7.8 1 22\r\n"),
           std::string("PROXY TCP5 1.2.3.4 5.6.7.8 1 22\r\n"),
           std::string("PROXY  TCP4 1.2.3.4 5.6.7.8 1 22\r\n"),
           std::string("proxy TCP4 1.2.3.4 5.6.7.8 1 22\r\n"),
           std::string("SSH-2.0-OpenSSH_9.2p1\r\n"),
           "PROXY TCP4 " + std::string(100, '1'),
       }) {
    ProxyHeader header;
    FeedLikeSocket(header, line);
    EXPECT_EQ(header.state(), State::kError) << line;
  }
}

TEST(ProxyHeaderTest, V1TruncatedWaits) {
  ProxyHeader header;
  FeedLikeSocket(header, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2");
  EXPECT_EQ(header.state(), State::kNeedMore);
  EXPECT_EQ(header.Wanted(), 1u);
}

TEST(ProxyHeaderTest, V2ProxyTcp4WithTlvsStopsAtItsLength) {
  ProxyHeader header;
  const std::string h = V2(
      1, 0x11, V4Body("203.0.113.9", 40001, "10.0.0.1", 22) + "\x04\x00\x01x");
  const size_t used = FeedLikeSocket(header, h + "SSH-2.0-client\r\n");
  EXPECT_EQ(header.state(), State::kDone) << header.error();
  EXPECT_EQ(used, h.size());
  EXPECT_EQ(header.source(), "203.0.113.9:40001");
  EXPECT_EQ(header.version(), 2);
}

TEST(ProxyHeaderTest, V2LocalAndUnspecKeepThePeer) {
  for (const std::string& h :
       {V2(0, 0x00, ""), V2(0, 0x11, V4Body("1.1.1.1", 1, "2.2.2.2", 2)),
        V2(1, 0x00, "")}) {
    ProxyHeader header;
    FeedLikeSocket(header, h);
    EXPECT_EQ(header.state(), State::kDone) << header.error();
    EXPECT_EQ(header.source(), "");
  }
}

TEST(ProxyHeaderTest, V2Malformed) {
  std::string bad_version = V2(1, 0x11, V4Body("1.1.1.1", 1, "2.2.2.2", 2));
  bad_version[12] = 0x11;
  for (const std::string& h : {
           bad_version,
           V2(2, 0x11, V4Body("1.1.1.1", 1, "2.2.2.2", 2)),  // command 2
           V2(1, 0x12, V4Body("1.1.1.1", 1, "2.2.2.2", 2)),  // UDP
           V2(1, 0x11, "short"),                             // no room
           V2(1, 0x41, ""),                                  // family 4
       }) {
    ProxyHeader header;
    FeedLikeSocket(header, h);
    EXPECT_EQ(header.state(), State::kError);
  }
}

TEST(ProxyHeaderTest, V2OversizedIsRefusedBeforeReadingIt) {
  ProxyHeader header;
  std::string h = kV2Signature + "\x21\x11" + std::string("\x10\x00", 2);
  FeedLikeSocket(header, h);
  EXPECT_EQ(header.state(), State::kError);
  EXPECT_NE(header.error().find("more than"), std::string::npos);
}

TEST(ProxyHeaderTest, V2TruncatedWaitsForExactlyTheRest) {
  ProxyHeader header;
  const std::string h = V2(1, 0x11, V4Body("1.1.1.1", 1, "2.2.2.2", 2));
  FeedLikeSocket(header, h.substr(0, 14));
  EXPECT_EQ(header.state(), State::kNeedMore);
  EXPECT_EQ(header.Wanted(), 2u);
  FeedLikeSocket(header, h.substr(14, 2));
  EXPECT_EQ(header.Wanted(), 12u);
}

sockaddr_storage Address(const char* text) {
  sockaddr_storage s{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in*>(&s)->sin_addr) ==
      1) {
    s.ss_family = AF_INET;
  } else {
    inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6*>(&s)->sin6_addr);
    s.ss_family = AF_INET6;
  }
  return s;
}

TEST(SourceNetworksTest, MatchesPrefixes) {
  auto networks =
      SourceNetworks::Parse(" 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32");
  ASSERT_TRUE(networks.ok()) << networks.status();
  EXPECT_TRUE(networks->Contains(Address("10.200.3.4")));
  EXPECT_TRUE(networks->Contains(Address("192.168.1.7")));
  EXPECT_FALSE(networks->Contains(Address("192.168.1.8")));
  EXPECT_FALSE(networks->Contains(Address("11.0.0.1")));
  EXPECT_TRUE(networks->Contains(Address("2001:db8:ff::1")));
  EXPECT_FALSE(networks->Contains(Address("2001:db9::1")));
  // An IPv4-mapped peer on a dual-stack socket counts as IPv4.
  EXPECT_TRUE(networks->Contains(Address("::ffff:10.1.2.3")));
  auto odd = SourceNetworks::Parse("172.16.0.0/12");
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains(Address("172.31.255.255")));
  EXPECT_FALSE(odd->Contains(Address("172.32.0.0")));
}

TEST(SourceNetworksTest, RefusesBadEntries) {
  for (const char* list : {"10.0.0.1/8", "10.0.0.0/33", "host.example",
                           "2001:db8::/129", "10.0.0.0/x"}) {
    EXPECT_FALSE(SourceNetworks::Parse(list).ok()) << list;
  }
  EXPECT_TRUE(SourceNetworks::Parse("")->empty());
}

}  // namespace
}  // namespace sftpgate::server
