// Directory handles: OPENDIR starts the backend listing and answers once
// it has begun (a missing directory fails OPENDIR, as opendir(3) would);
// READDIR hands out buffered entries with `ls -l` long names.

#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

// Entries per NAME reply (as OpenSSH) and a byte budget that keeps the
// reply far below clients' 256 KiB packet limit.
constexpr size_t kEntriesPerReaddir = 100;
constexpr size_t kReaddirBytes = 64 * 1024;

}  // namespace

void SessionImpl::Opendir(Op op, PacketReader& in) {
  std::string path;
  if (!ReadPath(in, op, &path)) return;
  auto handle = std::make_unique<Handle>();
  handle->path = path;
  handle->is_dir = true;
  handle->listing = std::make_unique<DirListing>(backend_, std::move(path),
                                                 options_.session.session_id());
  Handle* h = handles_.Add(std::move(handle));
  if (h == nullptr)
    return replier_.Status(op, kFxFailure, "too many open handles");
  // The handle is findable at once, so a pipelined CLOSE (or READDIR)
  // naming it may arrive before OPENDIR is answered: it waits on
  // `pending` like any request on the handle, and RequestDone lets it go.
  ++h->pending;
  h->listing->WaitStarted(
      [this, h, op = std::move(op)](const grpc::Status& status) {
        if (status.ok()) {
          replier_.NewHandle(op, h->id);
        } else {
          // The client never learns this handle: drop it, unless a CLOSE
          // naming it already arrived (that CLOSE releases it).
          if (handles_.BeginClose(h->id) != nullptr) ReleaseLater(h->id);
          replier_.Result(op, status);
        }
        RequestDone(h);
      });
  ArmTick();
}

void SessionImpl::Readdir(Op op, PacketReader& in) {
  Handle* h = ReadHandle(in, op);
  if (h == nullptr) return;
  if (h->listing == nullptr) {
    return replier_.Status(op, kFxFailure, "not a directory handle");
  }
  // The reply counts against the output limits from now on, at the size
  // it is built for (as READ's does).
  replier_.ReserveOutput(&op, kReaddirBytes);
  ++h->pending;
  h->listing->Next(kEntriesPerReaddir, kReaddirBytes,
                   [this, h, op = std::move(op)](
                       const grpc::Status& status,
                       std::vector<v1::DirEntry> entries, bool eof) {
                     if (!status.ok()) {
                       replier_.Result(op, status);
                     } else if (eof) {
                       replier_.Status(op, kFxEof);
                     } else {
                       SendDirEntries(op, entries);
                     }
                     RequestDone(h);
                   });
}

}  // namespace sftpgate::server::sftp
