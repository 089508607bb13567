// File handles: OPEN, CLOSE, READ, WRITE, FSTAT, FSETSTAT.
//
// OPEN for writing checks with Stat what open(2) would refuse (missing
// file, missing parent, a directory, EXCL on an existing file), because a
// Write stream only reports such errors once data flows. One exception
// keeps uploads of many small files fast: creating with TRUNC (no EXCL) in
// a directory the session saw a moment ago asks nothing (see Open). OPEN
// for reading only starts the Read stream its READs will use and answers
// from the stream's first reply (OpenForReading). Reading handles get a
// ReadAhead, writing handles an Upload (write-behind); CLOSE of an upload
// commits and answers with the backend's commit status.

#include <algorithm>

#include "absl/types/span.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::sftp {
namespace {

constexpr uint32_t kModeDirectory = 0040000;

// The open needs an upload (write stream): anything beyond reading.
bool OpensForWriting(uint32_t pflags) {
  return pflags & (kFxfWrite | kFxfAppend | kFxfCreat | kFxfTrunc);
}

uint32_t WriteFlags(uint32_t pflags) {
  uint32_t flags = 0;
  if (pflags & kFxfCreat) flags |= v1::WriteHeader::FLAG_CREATE;
  if (pflags & kFxfTrunc) flags |= v1::WriteHeader::FLAG_TRUNCATE;
  if ((pflags & kFxfCreat) && (pflags & kFxfExcl)) {
    flags |= v1::WriteHeader::FLAG_EXCLUSIVE;
  }
  if (pflags & kFxfAppend) flags |= v1::WriteHeader::FLAG_APPEND;
  return flags;
}

// Read-ahead per handle: several READs' worth, a few MiB at most.
constexpr size_t kReadAheadBytes = 4 * 1024 * 1024;
// What OPEN reads before any READ: a small file whole, and no more than
// this for a handle that is never read (a client may hold hundreds).
constexpr uint32_t kOpenReadAhead = 32 * 1024;

}  // namespace

void SessionImpl::Open(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  uint32_t pflags = 0;
  v1::Attributes attrs;
  if (!in.ReadU32(&pflags) || !DecodeAttributes(&in, &attrs)) {
    return replier_.BadMessage(op);
  }
  if (OpensForWriting(pflags)) {
    op.modifying = true;
    if (read_only()) {
      return replier_.Status(op, kFxPermissionDenied, kReadOnlyMessage);
    }
  }
  if (handles_.full()) {
    return replier_.Status(op, kFxFailure, "too many open handles");
  }
  if (op.trailing_slash)
    return RefuseDirectorySyntax(std::move(op), path, pflags);
  if (!OpensForWriting(pflags)) return OpenForReading(std::move(op), path);
  std::string parent;
  if (OpensForWriting(pflags) && (pflags & kFxfCreat)) {
    parent = std::string(SplitPath(path).parent);
    if (known_dirs_.Contains(parent, Now())) {
      parent.clear();
      // Creating or truncating in a directory seen just now (`put`, `put
      // -r`): only a directory in the file's place could make open(2)
      // fail, and the backend refuses that when the upload starts (the
      // client then gets the error on WRITE or CLOSE). Answer at once.
      // (Not with a quota: the size of the file it replaces counts.)
      if ((pflags & kFxfTrunc) && !(pflags & kFxfExcl) && !QuotaApplies()) {
        return FinishOpen(std::move(op), std::move(path), pflags,
                          std::move(attrs), /*exists=*/false);
      }
    }
  }
  // The file's Stat and, unless seen just now, its parent's Stat, both at
  // once: OPEN costs one backend round trip.
  auto check = std::make_shared<OpenCheck>();
  check->op = std::move(op);
  check->path = std::move(path);
  check->pflags = pflags;
  check->attrs = std::move(attrs);
  if (parent.empty()) check->parent.attrs.set_mode(kModeDirectory);
  check->waiting = parent.empty() ? 1 : 2;
  auto stat = [this, check](std::string target, bool parent) {
    v1::StatRequest request;
    request.set_path(std::move(target));
    request.set_follow_symlinks(true);
    backend_->Stat(
        std::move(request), [this, check, parent](const grpc::Status& status,
                                                  v1::StatResponse& response) {
          OpenCheck::Result& r = parent ? check->parent : check->file;
          r.status = status;
          r.attrs = std::move(*response.mutable_attributes());
          if (parent && status.ok() && IsDirectory(r.attrs)) {
            known_dirs_.Add(SplitPath(check->path).parent, Now());
          }
          if (--check->waiting == 0) OpenChecked(std::move(*check));
        });
  };
  stat(check->path, /*parent=*/false);
  if (!parent.empty()) stat(std::move(parent), /*parent=*/true);
}

// OPEN (or REMOVE, pflags 0) of "name/": open(2) and unlink(2) fail
// whatever the flags, and say why as they would: EISDIR for a directory
// or a file OPEN would create, ENOTDIR for a file. Without this, "put x
// newdir/" created a file named newdir, and "rm file/" removed the file.
void SessionImpl::RefuseDirectorySyntax(Op op, const std::string& path,
                                        uint32_t pflags) {
  v1::StatRequest request;
  request.set_path(path);
  request.set_follow_symlinks(true);
  backend_->Stat(std::move(request), [this, op = std::move(op), pflags](
                                         const grpc::Status& status,
                                         v1::StatResponse& response) {
    const bool missing = status.error_code() == grpc::StatusCode::NOT_FOUND;
    if (!status.ok() && !missing) return replier_.Result(op, status);
    if ((status.ok() && IsDirectory(response.attributes())) ||
        (missing && (pflags & kFxfCreat))) {
      return replier_.Status(op, kFxFailure, "Is a directory");
    }
    if (missing) return replier_.Result(op, status);
    replier_.Status(op, kFxNoSuchFile, kNotADirectoryMessage);
  });
}

// The stream that serves the handle's READs starts now, and OPEN answers
// from its first reply: data (or the end of an empty file) means open(2)
// would have succeeded; a missing file, a directory or an unreadable one
// fails the OPEN as open(2) would. OPEN and the READs that bring a small
// file's bytes thus cost one backend call, and a file that cannot be read
// fails at OPEN.
void SessionImpl::OpenForReading(Op op, const std::string& path) {
  auto handle = std::make_unique<Handle>();
  handle->path = path;
  handle->reader =
      std::make_unique<ReadAhead>(backend_, path, ReadAheadLimit());
  Handle* h = handles_.AddOpening(std::move(handle));  // Open checked room
  h->reader->Start(
      std::min(read_size_hint_, kOpenReadAhead),
      [this, op = std::move(op), id = h->id](const grpc::Status& status) {
        if (status.ok()) {
          handles_.FinishOpening(id);
          handles_.Find(id)->transfer_open = true;
          return replier_.NewHandle(op, id);
        }
        handles_.DropOpening(id);
        ReleaseLater(id);  // we run inside its ReadAhead
        if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
          return replier_.Status(op, kFxFailure, "Is a directory");
        }
        replier_.Result(op, status);
      });
  ArmTick();  // the call timeout applies while OPEN waits
}

size_t SessionImpl::ReadAheadLimit() const {
  return std::max<size_t>(kReadAheadBytes,
                          2 * size_t{options_.limits.max_read_length});
}

void SessionImpl::OpenChecked(OpenCheck check) {
  const bool writing = OpensForWriting(check.pflags);
  const grpc::Status& status = check.file.status;
  if (status.ok()) {
    if (IsDirectory(check.file.attrs)) {
      return replier_.Status(check.op, kFxFailure, "Is a directory");
    }
    if (writing && (check.pflags & kFxfCreat) && (check.pflags & kFxfExcl)) {
      return replier_.Status(check.op, kFxFailure, "File exists");
    }
    if (writing && QuotaApplies()) {
      const uint64_t size = check.file.attrs.size();
      return OpenWithinQuota(std::move(check.op), std::move(check.path),
                             check.pflags, std::move(check.attrs),
                             /*exists=*/true, size);
    }
    return FinishOpen(std::move(check.op), std::move(check.path), check.pflags,
                      std::move(check.attrs), /*exists=*/true);
  }
  if (status.error_code() != grpc::StatusCode::NOT_FOUND || !writing ||
      !(check.pflags & kFxfCreat)) {
    return replier_.Result(check.op, status);
  }
  // A new file needs an existing directory to live in.
  if (!check.parent.status.ok()) {
    return replier_.Result(check.op, check.parent.status);
  }
  if (!IsDirectory(check.parent.attrs)) {
    return replier_.Status(check.op, kFxNoSuchFile, kNotADirectoryMessage);
  }
  if (QuotaApplies()) {
    return OpenWithinQuota(std::move(check.op), std::move(check.path),
                           check.pflags, std::move(check.attrs),
                           /*exists=*/false, 0);
  }
  FinishOpen(std::move(check.op), std::move(check.path), check.pflags,
             std::move(check.attrs), /*exists=*/false);
}

void SessionImpl::FinishOpen(Op op, std::string path, uint32_t pflags,
                             v1::Attributes attrs, bool exists,
                             std::optional<QuotaAllowance> quota) {
  const bool writing = OpensForWriting(pflags);
  if (writing && !caps_known_) {
    // How to stream the upload (random writes, chunk size) is the
    // backend's to say.
    return WhenDescribed(
        [this, op = std::move(op), path = std::move(path), pflags,
         attrs = std::move(attrs), exists,
         quota = std::move(quota)](const grpc::Status& status) mutable {
          if (!status.ok()) return replier_.Result(op, status);
          FinishOpen(std::move(op), std::move(path), pflags, std::move(attrs),
                     exists, std::move(quota));
        });
  }
  auto handle = std::make_unique<Handle>();
  handle->path = path;
  if (quota.has_value()) handle->quota.emplace(std::move(*quota));
  if ((pflags & kFxfRead) || !writing) {
    handle->reader =
        std::make_unique<ReadAhead>(backend_, path, ReadAheadLimit());
  }
  if (writing) {
    Upload::Options upload;
    upload.path = std::move(path);
    upload.flags = WriteFlags(pflags);
    upload.attributes = std::move(attrs);
    upload.random_write = caps_.random_write();
    upload.max_chunk = MaxChunk();
    upload.waiting_for_room = &writes_waiting_for_room_;
    // A new or truncated file is written from offset 0; otherwise (resume,
    // in-place update) the first WRITE says where the data starts.
    if (!exists || (pflags & kFxfTrunc)) upload.start_offset = 0;
    handle->upload = std::make_unique<Upload>(backend_, std::move(upload));
  }
  Handle* added = handles_.Add(std::move(handle));
  if (added == nullptr) {
    return replier_.Status(op, kFxFailure, "too many open handles");
  }
  added->transfer_open = true;
  replier_.NewHandle(op, added->id);
  ArmTick();
}

void SessionImpl::Close(Op op, PacketReader& in) {
  absl::string_view id;
  if (!in.ReadString(&id)) return replier_.BadMessage(op);
  Handle* h = handles_.BeginClose(id);
  if (h == nullptr) return replier_.InvalidHandle(op);
  op.path = h->path;
  if (h->upload != nullptr) op.modifying = true;
  if (h->pending > 0) {
    // Answer the handle's earlier requests first (SFTP orders requests
    // on one handle).
    h->on_idle = [this, op = std::move(op), id = h->id]() mutable {
      FinishClose(std::move(op), id);
    };
    return;
  }
  FinishClose(std::move(op), h->id);
}

void SessionImpl::FinishClose(Op op, const std::string& id) {
  Handle* h = handles_.FindClosing(id);
  if (h->upload == nullptr) {
    EndTransfer(*h, h->read_error);
    handles_.Release(id);
    return replier_.Status(op, kFxOk);
  }
  h->upload->Commit(
      [this, op = std::move(op), id](const grpc::Status& status) mutable {
        Committed(std::move(op), id, status);
      });
}

void SessionImpl::Committed(Op op, const std::string& id,
                            const grpc::Status& status) {
  // Runs inside the handle's Upload: release the handle afterwards.
  Handle* h = handles_.FindClosing(id);
  ReleaseLater(id);
  EndTransfer(*h, status);
  if (!status.ok()) return replier_.Result(op, status);
  if (h->quota.has_value()) h->quota->committed = true;
  if (!h->deferred_attributes.has_value()) return replier_.Result(op, status);
  // FSETSTAT during the upload: apply it to the committed file.
  v1::SetStatRequest request;
  request.set_path(h->path);
  *request.mutable_attributes() = std::move(*h->deferred_attributes);
  request.set_follow_symlinks(true);
  SetStatWithinQuota(std::move(op), std::move(request));
}

void SessionImpl::Read(Op op, PacketReader& in) {
  absl::string_view id;
  uint64_t offset = 0;
  uint32_t length = 0;
  if (!in.ReadString(&id) || !in.ReadU64(&offset) || !in.ReadU32(&length)) {
    return replier_.BadMessage(op);
  }
  Handle* h = FindHandle(id, op);
  if (h == nullptr) return;
  if (h->reader == nullptr) {
    return replier_.Status(op, kFxFailure, "handle not open for reading");
  }
  // As OpenSSH: a zero-length READ reads nothing, which reads as EOF.
  if (length == 0) return replier_.Status(op, kFxEof);
  length = std::min(length, options_.limits.max_read_length);
  read_size_hint_ = length;
  // The reply counts against the output limits from now on: requests
  // already taken can never queue more than those limits allow.
  replier_.ReserveOutput(&op, kDataReplyOverhead + size_t{length});
  ++h->pending;
  AdmitRead(std::move(op), h, offset, length);
}

void SessionImpl::ServeRead(Op op, Handle* h, uint64_t offset,
                            uint32_t length) {
  h->reader->Read(
      offset, length,
      [this, h, op = std::move(op)](const grpc::Status& status,
                                    backend::DataChunk data, bool eof) {
        if (!status.ok()) {
          if (h->read_error.ok()) h->read_error = status;  // for CLOSE's log
          replier_.Result(op, status);
        } else if (eof) {
          replier_.Status(op, kFxEof);
        } else {
          h->bytes_read += data.size();
          metrics_.bytes_read()->Increment(data.size());
          replier_.Data(op, std::move(data));
        }
        RequestDone(h);
      });
}

void SessionImpl::Write(Op op, PacketReader& in) {
  absl::string_view id, data;
  uint64_t offset = 0;
  if (!in.ReadString(&id) || !in.ReadU64(&offset) || !in.ReadString(&data)) {
    return replier_.BadMessage(op);
  }
  Handle* h = FindHandle(id, op);
  if (h == nullptr) return;
  if (h->upload == nullptr) {
    return replier_.Status(op, kFxFailure, "handle not open for writing");
  }
  if (!WithinQuota(h, offset, data.size())) {
    return replier_.Status(op, kFxFailure, kQuotaExceededMessage);
  }
  h->upload->Write(
      offset, data,
      [this, op = std::move(op), n = data.size()](const grpc::Status& status) {
        if (status.ok()) metrics_.bytes_written()->Increment(n);
        ChargeUpload(n);
        replier_.Result(op, status);
      });
}

void SessionImpl::Fstat(Op op, PacketReader& in) {
  Handle* h = ReadHandle(in, op);
  if (h == nullptr) return;
  if (h->upload == nullptr) return StatPath(std::move(op), h->path, true);
  // A writer sees its own file: the stored one (none yet for a new file)
  // with the size its WRITEs give it, as fstat(2) would; after the
  // commits and resizes asked for before this FSTAT.
  h->upload->WhenSettled(
      [this, op = std::move(op), id = h->id](const grpc::Status&) mutable {
        FstatUpload(std::move(op), id);
      });
}

void SessionImpl::FstatUpload(Op op, const std::string& id) {
  v1::StatRequest request;
  request.set_path(op.path);
  request.set_follow_symlinks(true);
  backend_->Stat(std::move(request), [this, op = std::move(op), id](
                                         const grpc::Status& status,
                                         v1::StatResponse& response) {
    Handle* h = handles_.Find(id);  // closed meanwhile: the stored file
    std::optional<v1::Attributes> attrs;
    if (status.ok()) {
      attrs = std::move(*response.mutable_attributes());
    } else if (h != nullptr &&
               status.error_code() == grpc::StatusCode::NOT_FOUND) {
      attrs = h->upload->NewFileAttributes();
    }
    if (!attrs.has_value()) return replier_.Result(op, status);
    if (h != nullptr) {
      attrs->set_size(h->upload->SizeOver(status.ok() ? attrs->size() : 0));
    }
    SendAttrs(op, *attrs);
  });
}

void SessionImpl::Fsetstat(Op op, PacketReader& in) {
  absl::string_view id;
  v1::Attributes attrs;
  if (!in.ReadString(&id) || !DecodeAttributes(&in, &attrs)) {
    return replier_.BadMessage(op);
  }
  Handle* h = FindHandle(id, op);
  if (h == nullptr) return;
  if (attrs.has_size() && !h->is_dir && h->upload == nullptr) {
    // As ftruncate(2) on a descriptor opened for reading only.
    return replier_.Status(op, kFxPermissionDenied,
                           "handle not open for writing");
  }
  if (h->upload != nullptr) {
    // Everything else waits for CLOSE and is applied to the committed
    // file (a mode or times set now would land on the file the upload
    // replaces, and later WRITEs would move the times again).
    v1::Attributes later = attrs;
    later.clear_size();
    if (later.ByteSizeLong() > 0) {
      if (!h->deferred_attributes.has_value()) h->deferred_attributes.emplace();
      h->deferred_attributes->MergeFrom(later);
    }
    if (!attrs.has_size()) return replier_.Status(op, kFxOk);
    // A size takes effect here, between the WRITEs before and after it.
    if (!GrowWithinQuota(h, attrs.size())) {
      return replier_.Status(op, kFxFailure, kQuotaExceededMessage);
    }
    if (h->quota.has_value()) h->quota->committed = true;
    return h->upload->Resize(
        attrs.size(),
        [this, op = std::move(op)](const grpc::Status& status) mutable {
          replier_.Result(op, status);
        });
  }
  v1::SetStatRequest request;
  request.set_path(h->path);
  *request.mutable_attributes() = std::move(attrs);
  request.set_follow_symlinks(true);
  SetStatWithinQuota(std::move(op), std::move(request));
}

}  // namespace sftpgate::server::sftp
