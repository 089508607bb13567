#include "backend_service.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sftpgate/paths.h"

namespace sftpgate {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numeric values.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status CheckPath(absl::string_view path) {
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  if (!IsNormalizedPath(path)) {
    return absl::InvalidArgumentError("path is not absolute and normalized");
  }
  return absl::OkStatus();
}

// Validates the session of a request and returns the one to hand to the
// backend: `session` itself, or a copy in `*defaulted` whose empty root
// reads "/" so that backends never see an empty root.
absl::StatusOr<const Session*> CheckSession(bool present,
                                            const Session& session,
                                            Session* defaulted) {
  if (!present) return absl::InvalidArgumentError("request has no session");
  if (session.root().empty()) {
    *defaulted = session;
    defaulted->set_root("/");
    return defaulted;
  }
  if (!IsNormalizedPath(session.root())) {
    return absl::InvalidArgumentError("session root is not normalized");
  }
  return &session;
}

// Checks `request`'s session and `paths`, then runs `op(session)`, which
// returns the absl::Status of the backend call.
template <typename Request, typename Op>
grpc::Status Handle(const Request& request,
                    std::initializer_list<absl::string_view> paths, Op&& op) {
  Session defaulted;
  absl::StatusOr<const Session*> session =
      CheckSession(request.has_session(), request.session(), &defaulted);
  if (!session.ok()) return ToGrpc(session.status());
  for (absl::string_view path : paths) {
    absl::Status valid = CheckPath(path);
    if (!valid.ok()) return ToGrpc(valid);
  }
  return ToGrpc(op(**session));
}

// Moves the value of `result` into `*out`; returns its status.
template <typename T>
absl::Status Take(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return result.status();
  *out = *std::move(result);
  return absl::OkStatus();
}

// The contract's names travel in proto3 `string` fields. Protobuf writes a
// field that is not UTF-8 anyway (logging an error) but the receiver refuses
// to parse the message, so one bad name would lose a whole reply: a listing
// batch, a Stat. Names on disk are bytes (a Latin-1 file name), so a
// backend can meet them; the host never sends them.

// Clears the owner and group names of `attributes` that are not UTF-8:
// they are only for display, and without them the front end shows the
// session's user instead.
void DropInvalidNames(Attributes* attributes) {
  if (!IsValidUtf8(attributes->owner())) attributes->clear_owner();
  if (!IsValidUtf8(attributes->group())) attributes->clear_group();
}

// FAILED_PRECONDITION (and `*text` cleared) when `*text` is not UTF-8: the
// client could not be told it, nor name it back.
absl::Status RequireUtf8(std::string* text, absl::string_view what) {
  if (IsValidUtf8(*text)) return absl::OkStatus();
  text->clear();
  return absl::FailedPreconditionError(
      absl::StrCat(what, " is not valid UTF-8"));
}

absl::Status ClientGone() {
  return absl::CancelledError("the client cancelled the call");
}

// Ends an upload exactly once: Commit() when asked, Abort() otherwise
// (including from the destructor, so every early return discards it).
// Not thread-safe; lives on one handler's stack.
class Upload {
 public:
  explicit Upload(std::unique_ptr<FileWriter> writer)
      : writer_(std::move(writer)) {}
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;
  ~Upload() {
    if (!finished_) writer_->Abort();
  }

  absl::Status Write(uint64_t offset, absl::string_view data) {
    return writer_->Write(offset, data);
  }
  // A failed Commit() discards the upload itself (FileWriter contract), so
  // Abort() is not called after it.
  absl::StatusOr<uint64_t> Commit() {
    finished_ = true;
    return writer_->Commit();
  }

 private:
  std::unique_ptr<FileWriter> writer_;
  bool finished_ = false;
};

}  // namespace

BackendService::BackendService(Backend* backend,
                               const Capabilities& capabilities,
                               const ServeOptions& options)
    : backend_(backend), capabilities_(capabilities), options_(options) {}

grpc::Status BackendService::Describe(grpc::ServerContext*,
                                      const v1::DescribeRequest*,
                                      v1::DescribeResponse* response) {
  response->set_name(backend_->Name());
  response->set_symlinks(capabilities_.symlinks);
  response->set_hard_links(capabilities_.hard_links);
  response->set_stat_fs(capabilities_.stat_fs);
  response->set_usage(capabilities_.usage);
  response->set_real_path(capabilities_.real_path);
  response->set_set_stat_no_follow(capabilities_.set_stat_no_follow);
  response->set_random_write(backend_->AcceptsRandomWrites());
  response->set_preferred_chunk_size(options_.preferred_chunk_size);
  response->set_max_chunk_size(options_.max_chunk_size);
  response->set_max_list_batch(options_.list_batch_size);
  for (HashAlgorithm algorithm : backend_->HashAlgorithms()) {
    response->add_hash_algorithms(algorithm);
  }
  return grpc::Status::OK;
}

grpc::Status BackendService::Stat(grpc::ServerContext*,
                                  const v1::StatRequest* request,
                                  v1::StatResponse* response) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        absl::Status status = Take(backend_->Stat(session, request->path(),
                                                  request->follow_symlinks()),
                                   response->mutable_attributes());
        DropInvalidNames(response->mutable_attributes());
        return status;
      });
}

grpc::Status BackendService::MakeDir(grpc::ServerContext*,
                                     const v1::MakeDirRequest* request,
                                     v1::MakeDirResponse*) {
  return Handle(*request, {request->path()},
                [&](const Session& session) -> absl::Status {
                  return backend_->MakeDir(session, request->path(),
                                           request->attributes());
                });
}

grpc::Status BackendService::RemoveDir(grpc::ServerContext*,
                                       const v1::RemoveDirRequest* request,
                                       v1::RemoveDirResponse*) {
  return Handle(*request, {request->path()},
                [&](const Session& session) -> absl::Status {
                  return backend_->RemoveDir(session, request->path());
                });
}

grpc::Status BackendService::Remove(grpc::ServerContext*,
                                    const v1::RemoveRequest* request,
                                    v1::RemoveResponse*) {
  return Handle(*request, {request->path()},
                [&](const Session& session) -> absl::Status {
                  return backend_->Remove(session, request->path());
                });
}

grpc::Status BackendService::Rename(grpc::ServerContext*,
                                    const v1::RenameRequest* request,
                                    v1::RenameResponse*) {
  return Handle(*request, {request->from(), request->to()},
                [&](const Session& session) -> absl::Status {
                  return backend_->Rename(session, request->from(),
                                          request->to(), request->overwrite());
                });
}

grpc::Status BackendService::SetStat(grpc::ServerContext*,
                                     const v1::SetStatRequest* request,
                                     v1::SetStatResponse*) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        return request->follow_symlinks()
                   ? backend_->SetStat(session, request->path(),
                                       request->attributes())
                   : backend_->SetStatNoFollow(session, request->path(),
                                               request->attributes());
      });
}

grpc::Status BackendService::Symlink(grpc::ServerContext*,
                                     const v1::SymlinkRequest* request,
                                     v1::SymlinkResponse*) {
  // The target is stored verbatim (it may be relative or dangling), so only
  // NUL and emptiness are refused here.
  return Handle(
      *request, {request->link_path()},
      [&](const Session& session) -> absl::Status {
        if (request->target().empty()) {
          return absl::InvalidArgumentError("symlink target is empty");
        }
        if (request->target().find('\0') != std::string::npos) {
          return absl::InvalidArgumentError(
              "symlink target contains a NUL byte");
        }
        return backend_->Symlink(session, request->link_path(),
                                 request->target());
      });
}

grpc::Status BackendService::ReadLink(grpc::ServerContext*,
                                      const v1::ReadLinkRequest* request,
                                      v1::ReadLinkResponse* response) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        absl::Status status = Take(backend_->ReadLink(session, request->path()),
                                   response->mutable_target());
        if (!status.ok()) return status;
        return RequireUtf8(response->mutable_target(), "link target");
      });
}

grpc::Status BackendService::Link(grpc::ServerContext*,
                                  const v1::LinkRequest* request,
                                  v1::LinkResponse*) {
  return Handle(*request, {request->existing_path(), request->new_path()},
                [&](const Session& session) -> absl::Status {
                  return backend_->Link(session, request->existing_path(),
                                        request->new_path());
                });
}

grpc::Status BackendService::RealPath(grpc::ServerContext*,
                                      const v1::RealPathRequest* request,
                                      v1::RealPathResponse* response) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        absl::Status status = Take(backend_->RealPath(session, request->path()),
                                   response->mutable_path());
        if (!status.ok()) return status;
        return RequireUtf8(response->mutable_path(), "real path");
      });
}

grpc::Status BackendService::StatFs(grpc::ServerContext*,
                                    const v1::StatFsRequest* request,
                                    v1::StatFsResponse* response) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        return Take(backend_->StatFs(session, request->path()), response);
      });
}

grpc::Status BackendService::Usage(grpc::ServerContext*,
                                   const v1::UsageRequest* request,
                                   v1::UsageResponse* response) {
  return Handle(*request, {}, [&](const Session& session) -> absl::Status {
    return Take(backend_->Usage(session), response);
  });
}

grpc::Status BackendService::Hash(grpc::ServerContext*,
                                  const v1::HashRequest* request,
                                  v1::HashResponse* response) {
  return Handle(*request, {request->path()},
                [&](const Session& session) -> absl::Status {
                  absl::StatusOr<std::vector<std::string>> digests =
                      backend_->Hash(session, *request);
                  if (!digests.ok()) return digests.status();
                  for (std::string& d : *digests) {
                    response->add_digests(std::move(d));
                  }
                  return absl::OkStatus();
                });
}

grpc::Status BackendService::ListDir(
    grpc::ServerContext* context, const v1::ListDirRequest* request,
    grpc::ServerWriter<v1::ListDirResponse>* writer) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        const size_t max_entries =
            std::max<uint32_t>(1, options_.list_batch_size);
        // Also flush by size so that a batch of long names stays well under
        // the message size limit.
        const size_t max_bytes = options_.preferred_chunk_size;
        v1::ListDirResponse batch;
        size_t batch_bytes = 0;
        auto flush = [&]() -> absl::Status {
          if (batch.entries_size() == 0) return absl::OkStatus();
          // Checked once per batch, not per entry: in gRPC's sync server
          // IsCancelled() polls the call's completion queue (a pluck with
          // a past deadline: a lock and a poller pass). Per entry it cost
          // about 15 us, four times all the rest of an entry (localfs,
          // 100,000 entries: 1.87 s of backend CPU before, 0.36 s after).
          if (context->IsCancelled() || !writer->Write(batch)) {
            return ClientGone();
          }
          batch.Clear();
          batch_bytes = 0;
          return absl::OkStatus();
        };
        // Entries whose name is not UTF-8 are left out rather than sent:
        // clients could not name them anyway, and sent they would cost the
        // whole batch around them (see DropInvalidNames).
        size_t skipped = 0;
        std::string first_skipped;
        absl::Status listed = backend_->ListDirAfter(
            session, request->path(), request->start_after(),
            [&](DirEntry entry) -> absl::Status {
              if (!IsValidUtf8(entry.name())) {
                if (skipped++ == 0) first_skipped = entry.name();
                return absl::OkStatus();
              }
              DropInvalidNames(entry.mutable_attributes());
              batch_bytes += entry.ByteSizeLong();
              *batch.add_entries() = std::move(entry);
              if (static_cast<size_t>(batch.entries_size()) >= max_entries ||
                  batch_bytes >= max_bytes) {
                return flush();
              }
              return absl::OkStatus();
            });
        if (skipped > 0) {
          // Escaped: the raw bytes would garble the log (or forge lines).
          std::fprintf(stderr,
                       "warning: list \"%s\" (session root \"%s\", user "
                       "\"%s\"): skipped %zu %s whose name is not valid "
                       "UTF-8, e.g. \"%s\"\n",
                       absl::CHexEscape(request->path()).c_str(),
                       absl::CHexEscape(session.root()).c_str(),
                       absl::CHexEscape(session.user()).c_str(), skipped,
                       skipped == 1 ? "entry" : "entries",
                       absl::CHexEscape(first_skipped).c_str());
        }
        if (!listed.ok()) return listed;
        return flush();
      });
}

grpc::Status BackendService::Read(grpc::ServerContext*,
                                  const v1::ReadRequest* request,
                                  grpc::ServerWriter<v1::ReadChunk>* writer) {
  return Handle(
      *request, {request->path()}, [&](const Session& session) -> absl::Status {
        absl::StatusOr<std::unique_ptr<FileReader>> reader =
            backend_->OpenRead(session, request->path(), request->offset());
        if (!reader.ok()) return reader.status();
        uint64_t chunk_size = request->chunk_size() != 0
                                  ? request->chunk_size()
                                  : options_.preferred_chunk_size;
        chunk_size = std::max<uint64_t>(
            1, std::min<uint64_t>(chunk_size, options_.max_chunk_size));
        uint64_t remaining = request->length() != 0
                                 ? request->length()
                                 : std::numeric_limits<uint64_t>::max();
        v1::ReadChunk chunk;
        uint64_t offset = request->offset();
        // No IsCancelled() per chunk (see ListDir): a cancelled call fails
        // the next Write, so at most one chunk is read for nobody.
        while (remaining > 0) {
          const size_t want = std::min(chunk_size, remaining);
          absl::Status read = (*reader)->Read(want, chunk.mutable_data());
          if (!read.ok()) return read;
          if (chunk.data().empty()) break;  // end of file
          // Never send more than asked, even if a reader misbehaves.
          if (chunk.data().size() > want) chunk.mutable_data()->resize(want);
          chunk.set_offset(offset);
          if (!writer->Write(chunk)) return ClientGone();
          offset += chunk.data().size();
          remaining -= chunk.data().size();
        }
        return absl::OkStatus();
      });
}

grpc::Status BackendService::Write(grpc::ServerContext* context,
                                   grpc::ServerReader<v1::WriteRequest>* reader,
                                   v1::WriteResponse* response) {
  v1::WriteRequest message;
  if (!reader->Read(&message)) {
    return ToGrpc(context->IsCancelled()
                      ? ClientGone()
                      : absl::InvalidArgumentError("write stream is empty"));
  }
  if (!message.has_header()) {
    return ToGrpc(absl::InvalidArgumentError(
        "the first write message must carry the header"));
  }
  return Handle(
      message, {message.header().path()},
      [&](const Session& session) -> absl::Status {
        absl::StatusOr<std::unique_ptr<FileWriter>> opened =
            backend_->OpenWrite(session, message.header());
        if (!opened.ok()) return opened.status();
        Upload upload(*std::move(opened));
        const bool random = backend_->AcceptsRandomWrites();
        uint64_t next_offset = message.header().offset();
        v1::WriteRequest next;
        bool commit = false;
        while (reader->Read(&next)) {
          if (commit) {
            return absl::InvalidArgumentError("write message after commit");
          }
          if (next.has_commit()) {
            commit = true;
            continue;
          }
          if (next.has_header()) {
            return absl::InvalidArgumentError("write header sent twice");
          }
          if (!next.has_chunk()) {
            return absl::InvalidArgumentError("write message carries no chunk");
          }
          const v1::WriteChunk& chunk = next.chunk();
          if (!random && chunk.offset() != next_offset) {
            return absl::InvalidArgumentError(absl::StrCat(
                "chunk at offset ", chunk.offset(), " but expected ",
                next_offset, ": this backend takes sequential writes only"));
          }
          absl::Status written = upload.Write(chunk.offset(), chunk.data());
          if (!written.ok()) return written;
          next_offset = chunk.offset() + chunk.data().size();
        }
        // Only an explicit commit publishes: when the request stream ends,
        // a cancelled call and a half-close look alike until gRPC has
        // processed the cancellation, so the end of the stream alone never
        // commits (the Upload aborts when it goes out of scope).
        if (!commit) {
          return context->IsCancelled()
                     ? ClientGone()
                     : absl::AbortedError("upload ended without a commit");
        }
        absl::StatusOr<uint64_t> committed = upload.Commit();
        if (!committed.ok()) return committed.status();
        response->set_committed_size(*committed);
        return absl::OkStatus();
      });
}

}  // namespace sftpgate
