// Wire constants of SFTP protocol version 3 (draft-ietf-secsh-filexfer-02),
// with the values OpenSSH's sftp-server uses.

#ifndef SFTPGATE_SERVER_SFTP_SFTP_CONSTANTS_H_
#define SFTPGATE_SERVER_SFTP_SFTP_CONSTANTS_H_

#include <cstddef>
#include <cstdint>

namespace sftpgate::server::sftp {

inline constexpr uint32_t kProtocolVersion = 3;

// Packet types (the byte after the length).
enum PacketType : uint8_t {
  kFxpInit = 1,
  kFxpVersion = 2,
  kFxpOpen = 3,
  kFxpClose = 4,
  kFxpRead = 5,
  kFxpWrite = 6,
  kFxpLstat = 7,
  kFxpFstat = 8,
  kFxpSetstat = 9,
  kFxpFsetstat = 10,
  kFxpOpendir = 11,
  kFxpReaddir = 12,
  kFxpRemove = 13,
  kFxpMkdir = 14,
  kFxpRmdir = 15,
  kFxpRealpath = 16,
  kFxpStat = 17,
  kFxpRename = 18,
  kFxpReadlink = 19,
  kFxpSymlink = 20,
  kFxpStatus = 101,
  kFxpHandle = 102,
  kFxpData = 103,
  kFxpName = 104,
  kFxpAttrs = 105,
  kFxpExtended = 200,
  kFxpExtendedReply = 201,
};

// Status codes of SSH_FXP_STATUS.
enum StatusCode : uint32_t {
  kFxOk = 0,
  kFxEof = 1,
  kFxNoSuchFile = 2,
  kFxPermissionDenied = 3,
  kFxFailure = 4,
  kFxBadMessage = 5,
  kFxNoConnection = 6,
  kFxConnectionLost = 7,
  kFxOpUnsupported = 8,  // the last code SFTP v3 defines
};

// SSH_FXP_OPEN pflags.
enum OpenFlag : uint32_t {
  kFxfRead = 0x01,
  kFxfWrite = 0x02,
  kFxfAppend = 0x04,
  kFxfCreat = 0x08,
  kFxfTrunc = 0x10,
  kFxfExcl = 0x20,
};

// ATTRS flags.
enum AttrFlag : uint32_t {
  kAttrSize = 0x00000001,
  kAttrUidGid = 0x00000002,
  kAttrPermissions = 0x00000004,
  kAttrAcModTime = 0x00000008,
  kAttrExtended = 0x80000000,
};

// f_flag bits of the statvfs@openssh.com reply.
inline constexpr uint64_t kStatVfsReadOnly = 0x1;
inline constexpr uint64_t kStatVfsNoSuid = 0x2;

// Bytes a DATA reply adds to its payload: length, type, id, data length.
inline constexpr size_t kDataReplyOverhead = 4 + 1 + 4 + 4;

// The default, human-readable message for a status code, as OpenSSH words
// it ("No such file", ...).
const char* StatusCodeMessage(uint32_t code);

// The status's label in logs and metrics ("ok", "no_such_file", ...;
// "other" for a code SFTP v3 does not define).
const char* StatusCodeLabel(uint32_t code);

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_SFTP_CONSTANTS_H_
