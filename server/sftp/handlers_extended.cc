// SSH_FXP_EXTENDED requests (OpenSSH's extensions and the two IETF ones it
// also serves), except copy-data (copy_data.cc). Dispatch by name, and
// which of them exist in a session, is in session_impl.cc (kExtensions).

#include "absl/strings/str_cat.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::sftp {

void SessionImpl::PosixRename(Op op, PacketReader& in) {
  RenamePaths(std::move(op), in, /*overwrite=*/true);
}

void SessionImpl::Statvfs(Op op, PacketReader& in) {
  std::string path;
  if (ReadPath(in, op, &path)) StatFsPath(std::move(op), std::move(path));
}

void SessionImpl::Fstatvfs(Op op, PacketReader& in) {
  Handle* h = ReadHandle(in, op);
  if (h != nullptr) StatFsPath(std::move(op), h->path);
}

void SessionImpl::StatFsPath(Op op, std::string path) {
  v1::StatFsRequest request;
  request.set_path(std::move(path));
  backend_->StatFs(std::move(request),
                   [this, op = std::move(op)](const grpc::Status& status,
                                              v1::StatFsResponse& fs) mutable {
                     if (!status.ok()) return replier_.Result(op, status);
                     if (QuotaApplies()) {
                       return StatFsWithQuota(std::move(op), std::move(fs));
                     }
                     SendStatFs(op, fs);
                   });
}

void SessionImpl::SendStatFs(const Op& op, const v1::StatFsResponse& fs) {
  uint64_t flags = fs.flags() & (kStatVfsReadOnly | kStatVfsNoSuid);
  if (read_only()) flags |= kStatVfsReadOnly;
  PacketWriter out(kFxpExtendedReply, 100);
  out.U32(op.id)
      .U64(fs.block_size())
      .U64(fs.fragment_size())
      .U64(fs.blocks())
      .U64(fs.blocks_free())
      .U64(fs.blocks_available())
      .U64(fs.files())
      .U64(fs.files_free())
      .U64(fs.files_available())
      .U64(fs.filesystem_id())
      .U64(flags)
      .U64(fs.max_name_length());
  replier_.Packet(op, std::move(out).Finish(), kFxOk);
}

void SessionImpl::Hardlink(Op op, PacketReader& in) {
  std::string existing, new_path;
  if (!ReadPath(in, op, &existing) || !ReadPath(in, op, &new_path)) return;
  v1::LinkRequest request;
  request.set_existing_path(std::move(existing));
  request.set_new_path(std::move(new_path));
  CallForStatus(std::move(op), &backend::BackendClient::Link,
                std::move(request));
}

void SessionImpl::Fsync(Op op, PacketReader& in) {
  Handle* h = ReadHandle(in, op);
  if (h == nullptr) return;
  // Reading handles have nothing to flush.
  if (h->upload == nullptr) return replier_.Status(op, kFxOk);
  // Commit what was written so far; later WRITEs continue the file. (For
  // the quota it counts as committed from now: the answer may come after
  // the handle is gone.)
  if (h->quota.has_value()) h->quota->committed = true;
  h->upload->Commit([this, op = std::move(op)](const grpc::Status& status) {
    replier_.Result(op, status);
  });
}

void SessionImpl::Lsetstat(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  v1::SetStatRequest request;
  if (!DecodeAttributes(&in, request.mutable_attributes())) {
    return replier_.BadMessage(op);
  }
  // As OpenSSH: a symlink cannot be truncated.
  if (request.attributes().has_size()) {
    return replier_.Status(op, kFxBadMessage, "lsetstat cannot change size");
  }
  request.set_path(std::move(path));
  request.set_follow_symlinks(false);
  SetStatWithinQuota(std::move(op), std::move(request));
}

void SessionImpl::Limits(Op op, PacketReader&) {
  const SftpLimits& limits = options_.limits;
  PacketWriter out(kFxpExtendedReply, 48);
  out.U32(op.id)
      .U64(limits.max_packet_length)
      .U64(limits.max_read_length)
      .U64(limits.max_write_length)
      .U64(limits.max_handles);
  replier_.Packet(op, std::move(out).Finish(), kFxOk);
}

void SessionImpl::ExpandPath(Op op, PacketReader& in) {
  // "~", "~/x" and "~<own user>/x" expand to the session's home, which is
  // its root "/"; other users' homes do not exist here. Relative paths are
  // relative to "/" too.
  absl::string_view raw;
  if (!in.ReadString(&raw)) return replier_.BadMessage(op);
  op.path = std::string(raw);
  absl::string_view rest = raw;
  if (!rest.empty() && rest[0] == '~') {
    const size_t slash = rest.find('/');
    const absl::string_view user = rest.substr(1, slash - 1);
    if (!user.empty() && user != options_.session.user()) {
      return replier_.Status(op, kFxNoSuchFile, "no such user");
    }
    rest = slash == absl::string_view::npos ? "" : rest.substr(slash);
  }
  absl::StatusOr<std::string> path = NormalizePath(rest);
  if (!path.ok()) return replier_.Result(op, path.status());
  Resolve(std::move(op), *std::move(path));
}

void SessionImpl::HomeDirectory(Op op, PacketReader& in) {
  absl::string_view user;
  if (!in.ReadString(&user)) return replier_.BadMessage(op);
  if (!user.empty() && user != options_.session.user()) {
    return replier_.Status(op, kFxFailure, "no such user");
  }
  replier_.Name(op, "/");
}

void SessionImpl::RememberIdNames(const v1::Attributes& attrs) {
  // Enough for any real store; a backend inventing ids cannot grow it.
  constexpr size_t kMaxRemembered = 1024;
  if (attrs.has_uid() && !attrs.owner().empty() &&
      user_names_.size() < kMaxRemembered) {
    user_names_.try_emplace(attrs.uid(), attrs.owner());
  }
  if (attrs.has_gid() && !attrs.group().empty() &&
      group_names_.size() < kMaxRemembered) {
    group_names_.try_emplace(attrs.gid(), attrs.group());
  }
}

std::string SessionImpl::NamesForIds(
    absl::string_view ids,
    const absl::flat_hash_map<uint32_t, std::string>& names) const {
  PacketReader in(ids);
  std::string packed;
  uint32_t id = 0;
  while (in.ReadU32(&id)) {
    auto it = names.find(id);
    const std::string& name =
        it != names.end() ? it->second : options_.session.user();
    const uint32_t size = static_cast<uint32_t>(name.size());
    const char length[4] = {
        static_cast<char>(size >> 24), static_cast<char>(size >> 16),
        static_cast<char>(size >> 8), static_cast<char>(size)};
    packed.append(length, 4).append(name);
  }
  return packed;
}

void SessionImpl::UsersGroupsById(Op op, PacketReader& in) {
  absl::string_view uids, gids;
  if (!in.ReadString(&uids) || !in.ReadString(&gids) || uids.size() % 4 != 0 ||
      gids.size() % 4 != 0) {
    return replier_.BadMessage(op);
  }
  const std::string users = NamesForIds(uids, user_names_);
  const std::string groups = NamesForIds(gids, group_names_);
  PacketWriter out(kFxpExtendedReply, 16 + users.size() + groups.size());
  out.U32(op.id).String(users).String(groups);
  replier_.Packet(op, std::move(out).Finish(), kFxOk);
}

}  // namespace sftpgate::server::sftp
