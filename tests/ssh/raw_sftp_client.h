// RawSftpClient: a minimal SFTP v3 client over a libssh client channel, for
// tests that need control no real client gives: pipelining without reading
// replies, stalling a reader, several channels on one connection.

#ifndef SFTPGATE_TESTS_SSH_RAW_SFTP_CLIENT_H_
#define SFTPGATE_TESTS_SSH_RAW_SFTP_CLIENT_H_

#include <libssh/libssh.h>

#include <cstdint>
#include <string>

namespace sftpgate::testing_util {

constexpr uint8_t kFxpOpen = 3;
constexpr uint8_t kFxpClose = 4;
constexpr uint8_t kFxpRead = 5;
constexpr uint8_t kFxpWrite = 6;
constexpr uint8_t kFxpStat = 17;
constexpr uint8_t kFxpStatus = 101;
constexpr uint8_t kFxpHandle = 102;
constexpr uint8_t kFxpData = 103;
constexpr uint8_t kFxpAttrs = 105;
constexpr uint32_t kFxfRead = 0x01;
constexpr uint32_t kFxfWrite = 0x02;
constexpr uint32_t kFxfCreat = 0x08;
constexpr uint32_t kFxfTrunc = 0x10;

struct Reply {
  uint8_t type = 0;
  uint32_t id = 0;
  std::string body;  // after the id
  // For STATUS replies: the code and the message.
  uint32_t StatusCode() const;
  std::string StatusMessage() const;
};

class RawSftpClient {
 public:
  // Opens a session channel on an authenticated `session`, starts the sftp
  // subsystem and exchanges INIT/VERSION. ok() tells whether it worked.
  explicit RawSftpClient(ssh_session session);
  ~RawSftpClient();

  bool ok() const { return ok_; }

  // Sends one request; `payload` follows the request id.
  bool Send(uint8_t type, uint32_t id, const std::string& payload);
  // Reads one reply (blocking up to `timeout_ms`); false on error/timeout.
  bool Receive(Reply* reply, int timeout_ms = 30000);

  // Synchronous helpers (one request, one reply). Empty handle on failure.
  std::string Open(const std::string& path, uint32_t pflags);
  bool Close(const std::string& handle);

  // Payload encoders.
  static std::string U32(uint32_t v);
  static std::string U64(uint64_t v);
  static std::string Str(const std::string& s);

 private:
  bool ReadExactly(char* out, size_t n, int timeout_ms);

  ssh_channel channel_ = nullptr;
  bool ok_ = false;
  uint32_t next_id_ = 1u << 30;  // ids for the synchronous helpers
};

}  // namespace sftpgate::testing_util

#endif  // SFTPGATE_TESTS_SSH_RAW_SFTP_CLIENT_H_
