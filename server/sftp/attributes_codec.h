// The SFTP v3 ATTRS structure <-> sftpgate.v1.Attributes.
//
//   uint32 flags
//   uint64 size             if SSH_FILEXFER_ATTR_SIZE
//   uint32 uid, uint32 gid  if SSH_FILEXFER_ATTR_UIDGID
//   uint32 permissions      if SSH_FILEXFER_ATTR_PERMISSIONS
//   uint32 atime, mtime     if SSH_FILEXFER_ATTR_ACMODTIME
//   uint32 count, count x (string type, string data)
//                           if SSH_FILEXFER_ATTR_EXTENDED
//
// Thread safety: pure functions.

#ifndef SFTPGATE_SERVER_SFTP_ATTRIBUTES_CODEC_H_
#define SFTPGATE_SERVER_SFTP_ATTRIBUTES_CODEC_H_

#include "server/sftp/packet_reader.h"
#include "server/sftp/packet_writer.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

// Appends `attrs` as ATTRS. UIDGID is sent only when both ids are set;
// ACMODTIME when mtime is set (atime falls back to mtime). Times outside
// uint32 are clamped (v3 carries 32-bit times). Names and nlink are not
// part of v3 ATTRS (they appear in READDIR long names).
void EncodeAttributes(const v1::Attributes& attrs, PacketWriter* out);

// Reads ATTRS into *attrs (cleared first). Extended pairs are skipped: no
// backend field carries them. Returns false when the structure is
// truncated (the reader is then failed).
bool DecodeAttributes(PacketReader* in, v1::Attributes* attrs);

// Whether `attrs` has a mode whose file type is "directory".
bool IsDirectory(const v1::Attributes& attrs);

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_ATTRIBUTES_CODEC_H_
