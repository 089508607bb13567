#include "client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sftpgate::conformance {
namespace {

// Guards against a backend that streams without end: more than this is
// never legitimate for the files and directories the checks create.
constexpr uint64_t kMaxReadBytes = 256ull << 20;
constexpr size_t kMaxListEntries = 1000000;

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

// Paths may hold any bytes; keep the messages printable.
std::string Quote(absl::string_view path) { return absl::CHexEscape(path); }

std::string ShowOctal(int mode) { return absl::StrFormat("0%o", mode); }

// "CREATE|TRUNCATE" for WriteHeader flags ("NONE" for 0).
std::string FlagNames(uint32_t flags) {
  std::vector<std::string> names;
  for (uint32_t bit = 1; bit != 0 && bit <= flags; bit <<= 1) {
    if ((flags & bit) == 0) continue;
    const auto flag = static_cast<v1::WriteHeader::Flag>(bit);
    names.push_back(v1::WriteHeader::Flag_IsValid(flag)
                        ? v1::WriteHeader::Flag_Name(flag).substr(5)
                        : absl::StrCat(bit));
  }
  return names.empty() ? "NONE" : absl::StrJoin(names, "|");
}

}  // namespace

Upload::Upload(std::string call, std::unique_ptr<grpc::ClientContext> context,
               std::unique_ptr<v1::WriteResponse> response,
               std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> writer,
               bool header_sent)
    : call_(std::move(call)),
      context_(std::move(context)),
      response_(std::move(response)),
      writer_(std::move(writer)),
      broken_(!header_sent) {}

Upload::~Upload() {
  // Never leave a half-done upload behind: an unfinished one is aborted.
  if (!finished_) Cancel();
}

bool Upload::Send(uint64_t offset, absl::string_view data) {
  if (broken_) return false;
  v1::WriteRequest request;
  request.mutable_chunk()->set_offset(offset);
  request.mutable_chunk()->set_data(std::string(data));
  broken_ = !writer_->Write(request);
  return !broken_;
}

Reply<uint64_t> Upload::Commit() {
  if (!broken_) {
    v1::WriteRequest commit;
    commit.mutable_commit();
    writer_->WriteLast(commit, grpc::WriteOptions());
  }
  return Finish();
}

Reply<uint64_t> Upload::Cancel() {
  context_->TryCancel();
  return Finish();
}

Reply<uint64_t> Upload::Finish() {
  finished_ = true;
  const grpc::Status status = writer_->Finish();
  if (!status.ok()) return Reply<uint64_t>(call_, ToAbsl(status));
  return Reply<uint64_t>(call_, response_->committed_size());
}

Client::Client(std::shared_ptr<v1::Backend::Stub> stub, v1::Session session,
               absl::Duration timeout, std::shared_ptr<const CallBudget> budget)
    : stub_(std::move(stub)),
      session_(std::move(session)),
      timeout_(timeout),
      budget_(std::move(budget)) {}

std::string Client::CallName(absl::string_view op,
                             absl::string_view args) const {
  std::string prefix;
  if (session_.root() != "/" || session_.read_only()) {
    prefix = absl::StrCat("[session root=", Quote(session_.root()),
                          session_.read_only() ? " read-only" : "", "] ");
  }
  return absl::StrCat(prefix, op, "(", args, ")");
}

std::unique_ptr<grpc::ClientContext> Client::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(
      std::min(absl::Now() + timeout_, budget_->deadline())));
  return context;
}

template <typename Request, typename Response>
absl::StatusOr<Response> Client::Unary(
    grpc::Status (v1::Backend::Stub::*method)(grpc::ClientContext*,
                                              const Request&, Response*),
    Request request) const {
  *request.mutable_session() = session_;
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  Response response;
  const grpc::Status status =
      (stub_.get()->*method)(context.get(), request, &response);
  if (!status.ok()) return ToAbsl(status);
  return response;
}

Reply<v1::DescribeResponse> Client::Describe() const {
  return {CallName("Describe", ""),
          Unary(&v1::Backend::Stub::Describe, v1::DescribeRequest())};
}

Reply<v1::Attributes> Client::Stat(absl::string_view path, bool follow) const {
  v1::StatRequest request;
  request.set_path(std::string(path));
  request.set_follow_symlinks(follow);
  auto response = Unary(&v1::Backend::Stub::Stat, std::move(request));
  std::string call = CallName(follow ? "Stat" : "Lstat", Quote(path));
  if (!response.ok()) return {std::move(call), response.status()};
  return {std::move(call), response->attributes()};
}

Reply<Empty> Client::MakeDir(absl::string_view path, int mode) const {
  v1::MakeDirRequest request;
  request.set_path(std::string(path));
  std::string args = Quote(path);
  if (mode >= 0) {
    request.mutable_attributes()->set_mode(mode);
    absl::StrAppend(&args, ", mode ", ShowOctal(mode));
  }
  return {CallName("MakeDir", args),
          Unary(&v1::Backend::Stub::MakeDir, std::move(request)).status()};
}

Reply<Empty> Client::RemoveDir(absl::string_view path) const {
  v1::RemoveDirRequest request;
  request.set_path(std::string(path));
  return {CallName("RemoveDir", Quote(path)),
          Unary(&v1::Backend::Stub::RemoveDir, std::move(request)).status()};
}

Reply<Empty> Client::Remove(absl::string_view path) const {
  v1::RemoveRequest request;
  request.set_path(std::string(path));
  return {CallName("Remove", Quote(path)),
          Unary(&v1::Backend::Stub::Remove, std::move(request)).status()};
}

Reply<Empty> Client::Rename(absl::string_view from, absl::string_view to,
                            bool overwrite) const {
  v1::RenameRequest request;
  request.set_from(std::string(from));
  request.set_to(std::string(to));
  request.set_overwrite(overwrite);
  return {CallName("Rename", absl::StrCat(Quote(from), " -> ", Quote(to),
                                          overwrite ? ", overwrite" : "")),
          Unary(&v1::Backend::Stub::Rename, std::move(request)).status()};
}

Reply<Empty> Client::SetStat(absl::string_view path,
                             const v1::Attributes& attributes,
                             bool follow) const {
  v1::SetStatRequest request;
  request.set_path(std::string(path));
  *request.mutable_attributes() = attributes;
  request.set_follow_symlinks(follow);
  return {CallName(follow ? "SetStat" : "SetStat(nofollow)",
                   absl::StrCat(Quote(path), ", {",
                                attributes.ShortDebugString(), "}")),
          Unary(&v1::Backend::Stub::SetStat, std::move(request)).status()};
}

Reply<Empty> Client::Symlink(absl::string_view link_path,
                             absl::string_view target) const {
  v1::SymlinkRequest request;
  request.set_link_path(std::string(link_path));
  request.set_target(std::string(target));
  return {CallName("Symlink",
                   absl::StrCat(Quote(link_path), " -> ", Quote(target))),
          Unary(&v1::Backend::Stub::Symlink, std::move(request)).status()};
}

Reply<std::string> Client::ReadLink(absl::string_view path) const {
  v1::ReadLinkRequest request;
  request.set_path(std::string(path));
  auto response = Unary(&v1::Backend::Stub::ReadLink, std::move(request));
  std::string call = CallName("ReadLink", Quote(path));
  if (!response.ok()) return {std::move(call), response.status()};
  return {std::move(call), response->target()};
}

Reply<Empty> Client::Link(absl::string_view existing_path,
                          absl::string_view new_path) const {
  v1::LinkRequest request;
  request.set_existing_path(std::string(existing_path));
  request.set_new_path(std::string(new_path));
  return {CallName("Link",
                   absl::StrCat(Quote(existing_path), " => ", Quote(new_path))),
          Unary(&v1::Backend::Stub::Link, std::move(request)).status()};
}

Reply<std::string> Client::RealPath(absl::string_view path) const {
  v1::RealPathRequest request;
  request.set_path(std::string(path));
  auto response = Unary(&v1::Backend::Stub::RealPath, std::move(request));
  std::string call = CallName("RealPath", Quote(path));
  if (!response.ok()) return {std::move(call), response.status()};
  return {std::move(call), response->path()};
}

Reply<v1::StatFsResponse> Client::StatFs(absl::string_view path) const {
  v1::StatFsRequest request;
  request.set_path(std::string(path));
  return {CallName("StatFs", Quote(path)),
          Unary(&v1::Backend::Stub::StatFs, std::move(request))};
}

Reply<v1::UsageResponse> Client::Usage() const {
  return {CallName("Usage", ""),
          Unary(&v1::Backend::Stub::Usage, v1::UsageRequest())};
}

Reply<std::vector<std::string>> Client::Hash(absl::string_view path,
                                             v1::HashAlgorithm algorithm,
                                             uint64_t offset, uint64_t length,
                                             uint32_t block_size) const {
  v1::HashRequest request;
  request.set_path(std::string(path));
  request.set_algorithm(algorithm);
  request.set_offset(offset);
  request.set_length(length);
  request.set_block_size(block_size);
  std::string call = CallName(
      "Hash", absl::StrCat(Quote(path), ", ", v1::HashAlgorithm_Name(algorithm),
                           ", offset ", offset, ", length ", length, ", block ",
                           block_size));
  auto response = Unary(&v1::Backend::Stub::Hash, std::move(request));
  if (!response.ok()) return {std::move(call), response.status()};
  return {std::move(call), std::vector<std::string>(response->digests().begin(),
                                                    response->digests().end())};
}

Reply<Listing> Client::ListDir(absl::string_view path,
                               absl::string_view start_after) const {
  v1::ListDirRequest request;
  *request.mutable_session() = session_;
  request.set_path(std::string(path));
  request.set_start_after(std::string(start_after));
  std::string call =
      start_after.empty()
          ? CallName("ListDir", Quote(path))
          : CallName("ListDir", absl::StrCat(Quote(path), ", start_after ",
                                             Quote(start_after)));
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  std::unique_ptr<grpc::ClientReader<v1::ListDirResponse>> reader =
      stub_->ListDir(context.get(), request);
  Listing listing;
  v1::ListDirResponse batch;
  while (reader->Read(&batch)) {
    ++listing.batches;
    for (v1::DirEntry& entry : *batch.mutable_entries()) {
      listing.entries.push_back(std::move(entry));
    }
    if (listing.entries.size() > kMaxListEntries) {
      context->TryCancel();
      reader->Finish();
      return {std::move(call),
              absl::DataLossError("client: endless listing, cancelled")};
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return {std::move(call), ToAbsl(status)};
  return {std::move(call), std::move(listing)};
}

Reply<ReadResult> Client::Read(absl::string_view path,
                               const ReadOptions& options) const {
  v1::ReadRequest request;
  *request.mutable_session() = session_;
  request.set_path(std::string(path));
  request.set_offset(options.offset);
  request.set_length(options.length);
  request.set_chunk_size(options.chunk_size);
  std::string call =
      CallName("Read", absl::StrCat(Quote(path), ", offset ", options.offset,
                                    ", length ", options.length));
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  std::unique_ptr<grpc::ClientReader<v1::ReadChunk>> reader =
      stub_->Read(context.get(), request);
  ReadResult result;
  v1::ReadChunk chunk;
  while (reader->Read(&chunk)) {
    result.chunks.push_back({chunk.offset(), chunk.data().size()});
    result.data += chunk.data();
    const bool cancel = options.cancel_after_chunks > 0 &&
                        result.chunks.size() >=
                            static_cast<size_t>(options.cancel_after_chunks);
    if (cancel || result.data.size() > kMaxReadBytes) {
      context->TryCancel();
      reader->Finish();
      if (cancel) return {std::move(call), absl::CancelledError("cancelled")};
      return {std::move(call),
              absl::DataLossError("client: endless read stream, cancelled")};
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return {std::move(call), ToAbsl(status)};
  return {std::move(call), std::move(result)};
}

std::unique_ptr<Upload> Client::StartUpload(
    const v1::WriteHeader& header) const {
  std::string args =
      absl::StrCat(Quote(header.path()), ", ", FlagNames(header.flags()));
  if (header.offset() != 0)
    absl::StrAppend(&args, ", offset ", header.offset());
  if (header.attributes().has_mode()) {
    absl::StrAppend(&args, ", mode ", ShowOctal(header.attributes().mode()));
  }
  std::string call = CallName("Write", args);
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  auto response = std::make_unique<v1::WriteResponse>();
  std::unique_ptr<grpc::ClientWriter<v1::WriteRequest>> writer =
      stub_->Write(context.get(), response.get());
  v1::WriteRequest first;
  *first.mutable_session() = session_;
  *first.mutable_header() = header;
  const bool sent = writer->Write(first);
  return std::make_unique<Upload>(std::move(call), std::move(context),
                                  std::move(response), std::move(writer), sent);
}

Reply<uint64_t> Client::Write(const v1::WriteHeader& header,
                              const std::vector<Chunk>& chunks) const {
  std::unique_ptr<Upload> upload = StartUpload(header);
  for (const Chunk& chunk : chunks) {
    if (!upload->Send(chunk.offset, chunk.data)) break;
  }
  return upload->Commit();
}

v1::WriteHeader MakeHeader(absl::string_view path, uint32_t flags,
                           uint64_t offset, int mode) {
  v1::WriteHeader header;
  header.set_path(std::string(path));
  header.set_flags(flags);
  header.set_offset(offset);
  if (mode >= 0) header.mutable_attributes()->set_mode(mode);
  return header;
}

std::vector<Chunk> SplitChunks(absl::string_view data, uint64_t offset,
                               size_t chunk_size) {
  std::vector<Chunk> chunks;
  for (size_t pos = 0; pos < data.size(); pos += chunk_size) {
    chunks.push_back({offset + pos, std::string(data.substr(pos, chunk_size))});
  }
  return chunks;
}

}  // namespace sftpgate::conformance
