#include "raw_sftp_client.h"

#include <chrono>

namespace sftpgate::testing_util {
namespace {

uint32_t GetU32(const std::string& s, size_t at) {
  if (at + 4 > s.size()) return 0;
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

}  // namespace

uint32_t Reply::StatusCode() const { return GetU32(body, 0); }

std::string Reply::StatusMessage() const {
  if (body.size() < 8) return "";
  return body.substr(8, GetU32(body, 4));
}

std::string RawSftpClient::U32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string RawSftpClient::U64(uint64_t v) {
  return U32(static_cast<uint32_t>(v >> 32)) + U32(static_cast<uint32_t>(v));
}

std::string RawSftpClient::Str(const std::string& s) {
  return U32(static_cast<uint32_t>(s.size())) + s;
}

RawSftpClient::RawSftpClient(ssh_session session) {
  channel_ = ssh_channel_new(session);
  if (channel_ == nullptr || ssh_channel_open_session(channel_) != SSH_OK ||
      ssh_channel_request_subsystem(channel_, "sftp") != SSH_OK) {
    return;
  }
  // INIT carries the version where other packets carry an id.
  std::string init = U32(5) + std::string(1, 1) + U32(3);
  if (ssh_channel_write(channel_, init.data(), init.size()) !=
      static_cast<int>(init.size())) {
    return;
  }
  Reply version;
  ok_ = Receive(&version) && version.type == 2 && version.id == 3;
}

RawSftpClient::~RawSftpClient() {
  if (channel_ != nullptr) ssh_channel_free(channel_);
}

bool RawSftpClient::Send(uint8_t type, uint32_t id,
                         const std::string& payload) {
  std::string packet = U32(static_cast<uint32_t>(5 + payload.size())) +
                       std::string(1, static_cast<char>(type)) + U32(id) +
                       payload;
  size_t done = 0;
  while (done < packet.size()) {
    int n = ssh_channel_write(channel_, packet.data() + done,
                              static_cast<uint32_t>(packet.size() - done));
    if (n <= 0) return false;
    done += n;
  }
  return true;
}

bool RawSftpClient::ReadExactly(char* out, size_t n, int timeout_ms) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t done = 0;
  while (done < n) {
    int left =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::steady_clock::now())
                             .count());
    if (left <= 0) return false;
    int r = ssh_channel_read_timeout(channel_, out + done,
                                     static_cast<uint32_t>(n - done), 0, left);
    if (r < 0) return false;
    if (r == 0 && ssh_channel_is_eof(channel_)) return false;
    done += r;
  }
  return true;
}

bool RawSftpClient::Receive(Reply* reply, int timeout_ms) {
  char header[5];
  if (!ReadExactly(header, 5, timeout_ms)) return false;
  uint32_t length = GetU32(std::string(header, 4), 0);
  if (length < 1 || length > (1u << 20)) return false;
  std::string rest(length - 1, '\0');
  if (!ReadExactly(rest.data(), rest.size(), timeout_ms)) return false;
  reply->type = static_cast<uint8_t>(header[4]);
  reply->id = GetU32(rest, 0);
  reply->body = rest.size() >= 4 ? rest.substr(4) : "";
  return true;
}

std::string RawSftpClient::Open(const std::string& path, uint32_t pflags) {
  uint32_t id = next_id_++;
  Reply reply;
  if (!Send(kFxpOpen, id, Str(path) + U32(pflags) + U32(0)) ||
      !Receive(&reply) || reply.id != id || reply.type != kFxpHandle) {
    return "";
  }
  return reply.body.substr(4, GetU32(reply.body, 0));
}

bool RawSftpClient::Close(const std::string& handle) {
  uint32_t id = next_id_++;
  Reply reply;
  return Send(kFxpClose, id, Str(handle)) && Receive(&reply) &&
         reply.id == id && reply.type == kFxpStatus && reply.StatusCode() == 0;
}

}  // namespace sftpgate::testing_util
