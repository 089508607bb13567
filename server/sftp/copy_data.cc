// copy-data (OpenSSH's server-side copy): read from one open handle and
// write into another without the data crossing the network to the client.
// Like OpenSSH: the handles must differ and name different files; a given
// length that runs past end of file answers EOF, length 0 copies to EOF.

#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

constexpr uint32_t kCopyChunk = 256 * 1024;

}  // namespace

void SessionImpl::CopyData(Op op, PacketReader& in) {
  absl::string_view read_id, write_id;
  uint64_t read_offset = 0, length = 0, write_offset = 0;
  if (!in.ReadString(&read_id) || !in.ReadU64(&read_offset) ||
      !in.ReadU64(&length) || !in.ReadString(&write_id) ||
      !in.ReadU64(&write_offset)) {
    return replier_.BadMessage(op);
  }
  Handle* from = handles_.Find(read_id);
  Handle* to = handles_.Find(write_id);
  if (from == nullptr || to == nullptr || from == to ||
      from->reader == nullptr || to->upload == nullptr ||
      from->path == to->path) {
    return replier_.InvalidHandle(op);
  }
  op.path = from->path + " -> " + to->path;
  const uint64_t id = next_copy_id_++;
  auto job = std::make_unique<CopyJob>();
  job->op = std::move(op);
  job->from = from;
  job->to = to;
  job->read_offset = read_offset;
  job->write_offset = write_offset;
  job->wanted = length;
  job->last_progress = backend::Clock::now();
  ++from->pending;
  ++to->pending;
  v1::ReadRequest request;
  request.set_path(from->path);
  request.set_offset(read_offset);
  request.set_length(length);
  request.set_chunk_size(std::min(kCopyChunk, MaxChunk()));
  job->stream = backend_->Read(std::move(request),
                               {[this, id](backend::DataChunk chunk) {
                                  CopyChunk(id, std::move(chunk));
                                },
                                [this, id](const grpc::Status& status) {
                                  CopyStreamEnded(id, status);
                                }});
  copies_.emplace(id, std::move(job));
  ArmTick();
}

void SessionImpl::CopyChunk(uint64_t job_id, backend::DataChunk chunk) {
  auto it = copies_.find(job_id);
  if (it == copies_.end()) return;
  CopyJob* job = it->second.get();
  job->last_progress = backend::Clock::now();
  if (chunk.offset() != job->read_offset + job->copied) {
    job->stream->Cancel();
    return CopyStreamEnded(
        job_id, grpc::Status(grpc::StatusCode::INTERNAL,
                             "backend sent a non-contiguous read chunk"));
  }
  job->copied += chunk.data().size();
  ++job->writes_waiting;
  const uint64_t write_at =
      job->write_offset + (chunk.offset() - job->read_offset);
  // Past the quota the upload fails for good: the Write below reports it.
  WithinQuota(job->to, write_at, chunk.data().size());
  // Last use of `job`: the answer may come back at once and end the copy.
  job->to->upload->Write(write_at, chunk.data(),
                         [this, job_id](const grpc::Status& status) {
                           CopyWritten(job_id, status);
                         });
}

void SessionImpl::CopyWritten(uint64_t job_id, const grpc::Status& status) {
  auto it = copies_.find(job_id);
  if (it == copies_.end()) return;
  CopyJob* job = it->second.get();
  --job->writes_waiting;
  job->last_progress = backend::Clock::now();
  if (!status.ok() && job->status.ok()) {
    job->status = status;
    job->stream->Cancel();
    job->stream_ended = true;
  }
  if (!job->stream_ended && job->writes_waiting == 0) {
    job->stream->RequestNext();
  }
  MaybeFinishCopy(job_id);
}

void SessionImpl::CopyStreamEnded(uint64_t job_id, const grpc::Status& status) {
  auto it = copies_.find(job_id);
  if (it == copies_.end()) return;
  CopyJob* job = it->second.get();
  job->stream_ended = true;
  if (job->status.ok()) job->status = status;
  MaybeFinishCopy(job_id);
}

void SessionImpl::MaybeFinishCopy(uint64_t job_id) {
  auto it = copies_.find(job_id);
  if (it == copies_.end()) return;
  if (!it->second->stream_ended || it->second->writes_waiting > 0) return;
  std::unique_ptr<CopyJob> job = std::move(it->second);
  copies_.erase(it);
  if (!job->status.ok()) {
    replier_.Result(job->op, job->status);
  } else if (job->wanted > 0 && job->copied < job->wanted) {
    replier_.Status(job->op, kFxEof);
  } else {
    replier_.Status(job->op, kFxOk);
  }
  RequestDone(job->from);
  RequestDone(job->to);
}

void SessionImpl::CheckCopyTimeouts(backend::Clock::time_point now) {
  std::vector<uint64_t> stalled;
  for (auto& [id, job] : copies_) {
    if (!job->stream_ended && job->writes_waiting == 0 &&
        now - job->last_progress >= backend_->call_timeout()) {
      stalled.push_back(id);
    }
  }
  for (uint64_t id : stalled) {
    copies_[id]->stream->Cancel();
    CopyStreamEnded(id, grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                     "backend read timed out"));
  }
}

}  // namespace sftpgate::server::sftp
