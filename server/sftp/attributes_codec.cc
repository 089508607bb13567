#include "server/sftp/attributes_codec.h"

#include <algorithm>
#include <cstdint>

#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

uint32_t ClampTime(int64_t t) {
  return static_cast<uint32_t>(std::clamp<int64_t>(t, 0, int64_t{UINT32_MAX}));
}

}  // namespace

void EncodeAttributes(const v1::Attributes& attrs, PacketWriter* out) {
  uint32_t flags = 0;
  if (attrs.has_size()) flags |= kAttrSize;
  if (attrs.has_uid() && attrs.has_gid()) flags |= kAttrUidGid;
  if (attrs.has_mode()) flags |= kAttrPermissions;
  if (attrs.has_mtime()) flags |= kAttrAcModTime;
  out->U32(flags);
  if (flags & kAttrSize) out->U64(attrs.size());
  if (flags & kAttrUidGid) out->U32(attrs.uid()).U32(attrs.gid());
  if (flags & kAttrPermissions) out->U32(attrs.mode());
  if (flags & kAttrAcModTime) {
    const int64_t atime = attrs.has_atime() ? attrs.atime() : attrs.mtime();
    out->U32(ClampTime(atime)).U32(ClampTime(attrs.mtime()));
  }
}

bool DecodeAttributes(PacketReader* in, v1::Attributes* attrs) {
  attrs->Clear();
  uint32_t flags = 0;
  if (!in->ReadU32(&flags)) return false;
  if (flags & kAttrSize) {
    uint64_t size = 0;
    if (!in->ReadU64(&size)) return false;
    attrs->set_size(size);
  }
  if (flags & kAttrUidGid) {
    uint32_t uid = 0, gid = 0;
    if (!in->ReadU32(&uid) || !in->ReadU32(&gid)) return false;
    attrs->set_uid(uid);
    attrs->set_gid(gid);
  }
  if (flags & kAttrPermissions) {
    uint32_t mode = 0;
    if (!in->ReadU32(&mode)) return false;
    attrs->set_mode(mode);
  }
  if (flags & kAttrAcModTime) {
    uint32_t atime = 0, mtime = 0;
    if (!in->ReadU32(&atime) || !in->ReadU32(&mtime)) return false;
    attrs->set_atime(atime);
    attrs->set_mtime(mtime);
  }
  if (flags & kAttrExtended) {
    uint32_t count = 0;
    if (!in->ReadU32(&count)) return false;
    // Each pair takes at least 8 bytes, so a count larger than the packet
    // fails on the first missing pair without any allocation.
    for (uint32_t i = 0; i < count; ++i) {
      absl::string_view type, data;
      if (!in->ReadString(&type) || !in->ReadString(&data)) return false;
    }
  }
  return true;
}

bool IsDirectory(const v1::Attributes& attrs) {
  constexpr uint32_t kTypeMask = 0170000, kDirectory = 0040000;
  return attrs.has_mode() && (attrs.mode() & kTypeMask) == kDirectory;
}

}  // namespace sftpgate::server::sftp
