// ProxyHeader: an incremental parser of the PROXY protocol header (v1 text
// and v2 binary; spec: haproxy's doc/proxy-protocol.txt) that a load
// balancer sends before the client's own bytes.
//
// It never asks for a byte beyond the header: Wanted() says how many bytes
// the caller may read next (a v1 line is read one byte at a time past its
// fixed part, a v2 header in two exact reads), so the SSH client's banner
// that follows stays in the socket for libssh. Anything that does not
// exactly match the spec, a v1 line without CRLF in 107 bytes, or a v2
// header longer than kMaxV2Length is an error.
//
// Thread safety: none (one connection's handshake).

#ifndef SFTPGATE_SERVER_SSH_PROXY_HEADER_H_
#define SFTPGATE_SERVER_SSH_PROXY_HEADER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace sftpgate::server {

class ProxyHeader {
 public:
  enum class State { kNeedMore, kDone, kError };
  // Longest v2 header accepted (16 fixed bytes, addresses and TLVs). The
  // largest address block is 216 bytes (AF_UNIX); the rest is room for
  // TLVs a balancer may add (ALPN, authority, unique id, SSL info).
  static constexpr size_t kMaxV2Length = 1024;
  // Longest v1 line, CRLF included (the spec's maximum).
  static constexpr size_t kMaxV1Length = 107;

  // Bytes to read before the next Feed() (1 or more while kNeedMore).
  size_t Wanted() const;
  // Adds bytes read from the socket (at most Wanted()).
  State Feed(absl::string_view bytes);

  State state() const { return state_; }
  // kDone: "ip:port" ("[v6]:port") of the client the balancer speaks for;
  // empty for a LOCAL command (v2) or "UNKNOWN" (v1): the connection is
  // the balancer's own (a health check), use the socket's peer address.
  const std::string& source() const { return source_; }
  // 1 or 2 once known (0 before).
  int version() const { return version_; }
  // kError: what was wrong, for the log.
  const std::string& error() const { return error_; }

 private:
  State Fail(std::string error);
  State ParseV1();
  State ParseV2();

  std::string buffer_;
  State state_ = State::kNeedMore;
  int version_ = 0;
  std::string source_;
  std::string error_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SSH_PROXY_HEADER_H_
