#include "server/sftp/file_hasher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate::server::sftp {
namespace {

constexpr uint32_t kTypeMask = 0170000;
constexpr uint32_t kRegular = 0100000;
constexpr uint32_t kDirectory = 0040000;

}  // namespace

std::shared_ptr<FileHasher> FileHasher::Start(
    std::shared_ptr<backend::BackendClient> backend,
    const v1::DescribeResponse& caps, std::shared_ptr<HashBudget> budget,
    Request request, Done done) {
  std::shared_ptr<FileHasher> hasher(new FileHasher(
      std::move(backend),
      {caps.hash_algorithms().begin(), caps.hash_algorithms().end()},
      std::move(budget), std::move(request), std::move(done)));
  hasher->Begin();
  return hasher;
}

FileHasher::FileHasher(std::shared_ptr<backend::BackendClient> backend,
                       std::vector<int> backend_algorithms,
                       std::shared_ptr<HashBudget> budget, Request request,
                       Done done)
    : backend_(std::move(backend)),
      backend_algorithms_(std::move(backend_algorithms)),
      budget_(std::move(budget)),
      request_(std::move(request)),
      done_(std::move(done)),
      digest_(request_.algorithm) {}

// Unary calls in flight finish on their own (within the call deadline);
// their completions find the hasher gone.
FileHasher::~FileHasher() {
  if (stream_ != nullptr) stream_->Cancel();
}

void FileHasher::Begin() {
  v1::StatRequest stat;
  stat.set_path(request_.path);
  stat.set_follow_symlinks(true);
  backend_->Stat(std::move(stat),
                 [weak = weak_from_this()](const grpc::Status& status,
                                           v1::StatResponse& response) {
                   if (auto self = weak.lock())
                     self->OnStat(status, response.attributes());
                 });
}

void FileHasher::OnStat(const grpc::Status& status,
                        const v1::Attributes& attrs) {
  if (!status.ok()) return Finish(status);
  const uint32_t type = attrs.mode() & kTypeMask;
  if (type == kDirectory) {
    return Finish(
        grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "Is a directory"));
  }
  if (attrs.has_mode() && type != kRegular) {
    return Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                               "not a regular file"));
  }
  if (std::find(backend_algorithms_.begin(), backend_algorithms_.end(),
                static_cast<int>(request_.algorithm)) !=
      backend_algorithms_.end()) {
    return AskBackend();
  }
  // Refuse up front what the budget cannot cover, rather than failing
  // after reading most of it.
  if (attrs.has_size()) {
    const uint64_t size = attrs.size();
    const uint64_t start = std::min(request_.offset, size);
    uint64_t end = size;
    if (request_.length > 0 && request_.length < size - start) {
      end = start + request_.length;
    }
    if (end - start > budget_->remaining()) {
      return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "hash limit reached for this session"));
    }
  }
  ReadAndHash();
}

void FileHasher::AskBackend() {
  v1::HashRequest hash;
  hash.set_path(request_.path);
  hash.set_algorithm(request_.algorithm);
  hash.set_offset(request_.offset);
  hash.set_length(request_.length);
  hash.set_block_size(request_.block_size);
  backend_->Hash(std::move(hash),
                 [weak = weak_from_this()](const grpc::Status& status,
                                           v1::HashResponse& response) {
                   if (auto self = weak.lock())
                     self->OnBackendHash(status, response);
                 });
}

void FileHasher::OnBackendHash(const grpc::Status& status,
                               v1::HashResponse& response) {
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return ReadAndHash();
  }
  if (!status.ok()) return Finish(status);
  const size_t max = request_.max_blocks;
  if (max > 0 && static_cast<size_t>(response.digests_size()) > max) {
    return Finish(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many blocks"));
  }
  const size_t size = DigestSize(request_.algorithm);
  bool valid = request_.block_size > 0 || response.digests_size() == 1;
  for (const std::string& d : response.digests()) {
    if (d.size() != size) valid = false;
  }
  if (!valid) {
    return Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                               "backend sent malformed digests"));
  }
  digests_.assign(response.digests().begin(), response.digests().end());
  Finish(grpc::Status::OK);
}

void FileHasher::ReadAndHash() {
  v1::ReadRequest read;
  read.set_path(request_.path);
  read.set_offset(request_.offset);
  read.set_length(request_.length);
  next_offset_ = request_.offset;
  std::weak_ptr<FileHasher> weak = weak_from_this();
  stream_ =
      backend_->Read(std::move(read), {[weak](backend::DataChunk chunk) {
                                         if (auto self = weak.lock())
                                           self->OnChunk(std::move(chunk));
                                       },
                                       [weak](const grpc::Status& status) {
                                         if (auto self = weak.lock())
                                           self->OnStreamEnd(status);
                                       }});
}

void FileHasher::OnChunk(backend::DataChunk chunk) {
  if (chunk.offset() != next_offset_) {
    stream_->Cancel();
    return Finish(grpc::Status(grpc::StatusCode::DATA_LOSS,
                               "backend sent a chunk out of order"));
  }
  absl::string_view data = chunk.data();
  if (!budget_->TryCharge(data.size())) {
    stream_->Cancel();
    return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                               "hash limit reached for this session"));
  }
  next_offset_ += data.size();
  bytes_read_ += data.size();
  const uint64_t block = request_.block_size;
  while (!data.empty()) {
    size_t n = data.size();
    if (block > 0) n = std::min<uint64_t>(n, block - in_block_);
    digest_.Update(data.substr(0, n));
    data.remove_prefix(n);
    in_block_ += n;
    if (block > 0 && in_block_ == block) {
      if (request_.max_blocks > 0 && digests_.size() >= request_.max_blocks) {
        stream_->Cancel();
        return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   "too many blocks"));
      }
      digests_.push_back(digest_.Finish());
      in_block_ = 0;
    }
  }
  stream_->RequestNext();
}

void FileHasher::OnStreamEnd(const grpc::Status& status) {
  stream_.reset();
  if (!status.ok()) return Finish(status);
  if (request_.block_size == 0 || in_block_ > 0) {
    if (request_.max_blocks > 0 && digests_.size() >= request_.max_blocks) {
      return Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many blocks"));
    }
    digests_.push_back(digest_.Finish());
  }
  Finish(grpc::Status::OK);
}

void FileHasher::Finish(const grpc::Status& status) {
  if (done_ == nullptr) return;
  Done done = std::move(done_);
  done_ = nullptr;
  done(status, status.ok() ? std::move(digests_) : std::vector<std::string>());
}

}  // namespace sftpgate::server::sftp
