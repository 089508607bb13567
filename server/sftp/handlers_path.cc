// Requests that name paths: STAT, LSTAT, SETSTAT, REMOVE, MKDIR, RMDIR,
// REALPATH, RENAME, READLINK, SYMLINK. Each decodes, calls the backend
// once, and answers.

#include "server/sftp/attributes_codec.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::sftp {

void SessionImpl::Stat(Op op, PacketReader& in) {
  std::string path;
  if (ReadPath(in, op, &path)) StatPath(std::move(op), std::move(path), true);
}

void SessionImpl::Lstat(Op op, PacketReader& in) {
  std::string path;
  if (ReadPath(in, op, &path)) StatPath(std::move(op), std::move(path), false);
}

void SessionImpl::StatPath(Op op, std::string path, bool follow) {
  v1::StatRequest request;
  request.set_path(std::move(path));
  // "link/" names what the link points to, for LSTAT too.
  request.set_follow_symlinks(follow || op.trailing_slash);
  backend_->Stat(std::move(request), [this, op = std::move(op)](
                                         const grpc::Status& status,
                                         v1::StatResponse& response) {
    if (!status.ok()) return replier_.Result(op, status);
    if (op.trailing_slash && !IsDirectory(response.attributes())) {
      return replier_.Status(op, kFxNoSuchFile, kNotADirectoryMessage);
    }
    if (IsDirectory(response.attributes())) {
      known_dirs_.Add(op.path, Now());
    }
    SendAttrs(op, response.attributes());
  });
}

void SessionImpl::Setstat(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  v1::SetStatRequest request;
  if (!DecodeAttributes(&in, request.mutable_attributes())) {
    return replier_.BadMessage(op);
  }
  request.set_path(std::move(path));
  request.set_follow_symlinks(true);
  SetStatWithinQuota(std::move(op), std::move(request));
}

void SessionImpl::Remove(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  // unlink(2) of "name/" fails: EISDIR or ENOTDIR (never removes a file).
  if (op.trailing_slash) return RefuseDirectorySyntax(std::move(op), path, 0);
  known_dirs_.Clear();  // it may have been a symlink to a directory
  op.event = v1::EVENT_KIND_REMOVE;
  v1::RemoveRequest request;
  request.set_path(std::move(path));
  CallForStatus(std::move(op), &backend::BackendClient::Remove,
                std::move(request));
}

void SessionImpl::Mkdir(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  v1::MakeDirRequest request;
  if (!DecodeAttributes(&in, request.mutable_attributes())) {
    return replier_.BadMessage(op);
  }
  request.set_path(std::move(path));
  op.event = v1::EVENT_KIND_MKDIR;
  backend_->MakeDir(std::move(request),
                    [this, op = std::move(op)](const grpc::Status& status,
                                               v1::MakeDirResponse&) {
                      if (status.ok()) known_dirs_.Add(op.path, Now());
                      replier_.Result(op, status);
                    });
}

void SessionImpl::Rmdir(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  known_dirs_.Clear();
  op.event = v1::EVENT_KIND_RMDIR;
  v1::RemoveDirRequest request;
  request.set_path(std::move(path));
  CallForStatus(std::move(op), &backend::BackendClient::RemoveDir,
                std::move(request));
}

void SessionImpl::Realpath(Op op, PacketReader& in) {
  // "." and "" are the root: the session's "/" is its home.
  std::string path;
  if (ReadPath(in, op, &path)) Resolve(std::move(op), std::move(path));
}

void SessionImpl::Resolve(Op op, std::string path) {
  if (!caps_.real_path()) return replier_.Name(op, path);
  v1::RealPathRequest request;
  request.set_path(std::move(path));
  backend_->RealPath(std::move(request), [this, op = std::move(op)](
                                             const grpc::Status& status,
                                             v1::RealPathResponse& response) {
    if (!status.ok()) return replier_.Result(op, status);
    replier_.Name(op, response.path());
  });
}

void SessionImpl::Rename(Op op, PacketReader& in) {
  // SFTP v3 RENAME fails when the target exists (as OpenSSH's does).
  RenamePaths(std::move(op), in, /*overwrite=*/false);
}

void SessionImpl::RenamePaths(Op op, PacketReader& in, bool overwrite) {
  std::string from, to;
  if (!ReadPath(in, op, &from) || !ReadPath(in, op, &to)) return;
  known_dirs_.Clear();  // the directories beneath `from` move
  op.event = v1::EVENT_KIND_RENAME;
  op.rename_from = from;
  op.rename_to = to;
  v1::RenameRequest request;
  request.set_from(std::move(from));
  request.set_to(std::move(to));
  request.set_overwrite(overwrite);
  CallForStatus(std::move(op), &backend::BackendClient::Rename,
                std::move(request));
}

void SessionImpl::Readlink(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  if (!caps_.symlinks()) return replier_.Status(op, kFxOpUnsupported);
  // "link/" resolves through the link: a directory or an error, never a
  // link (readlink(2): EINVAL or ENOTDIR).
  if (op.trailing_slash) {
    return replier_.Status(op, kFxFailure, "Not a symbolic link");
  }
  v1::ReadLinkRequest request;
  request.set_path(std::move(path));
  backend_->ReadLink(std::move(request), [this, op = std::move(op)](
                                             const grpc::Status& status,
                                             v1::ReadLinkResponse& response) {
    if (!status.ok()) return replier_.Result(op, status);
    replier_.Name(op, response.target());
  });
}

void SessionImpl::Symlink(Op op, PacketReader& in) {
  // OpenSSH sends (and its server reads) the link's target first and the
  // new link's path second: the reverse of the draft. OpenSSH clients are
  // what is out there, so this follows OpenSSH. The target is stored
  // verbatim (it may be relative or dangling); only the link path is a
  // path of ours.
  absl::string_view target;
  if (!in.ReadString(&target)) return replier_.BadMessage(op);
  std::string link_path;
  if (!ReadPath(in, op, &link_path)) return;
  if (!IsValidUtf8(target)) {
    return replier_.Status(op, kFxBadMessage, "link target is not valid UTF-8");
  }
  if (!caps_.symlinks()) return replier_.Status(op, kFxOpUnsupported);
  v1::SymlinkRequest request;
  request.set_link_path(std::move(link_path));
  request.set_target(std::string(target));
  CallForStatus(std::move(op), &backend::BackendClient::Symlink,
                std::move(request));
}

}  // namespace sftpgate::server::sftp
