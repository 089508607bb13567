#include "tests/sdk/testing/test_client.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tests/sdk/testing/local_server.h"

namespace sftpgate::testing {
namespace {

void ApplyDeadline(grpc::ClientContext* context, absl::Duration deadline) {
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoMilliseconds(deadline));
}

}  // namespace

WriteStream::WriteStream(v1::Backend::Stub* stub, const Session& session,
                         const WriteHeader& header, absl::Duration deadline) {
  ApplyDeadline(&context_, deadline);
  writer_ = stub->Write(&context_, &response_);
  v1::WriteRequest first;
  *first.mutable_session() = session;
  *first.mutable_header() = header;
  writer_->Write(first);  // a failure shows in Finish()
}

WriteStream::~WriteStream() {
  if (!finished_) Cancel().IgnoreError();
}

bool WriteStream::Send(uint64_t offset, absl::string_view data) {
  v1::WriteRequest message;
  message.mutable_chunk()->set_offset(offset);
  message.mutable_chunk()->set_data(data.data(), data.size());
  return writer_->Write(message);
}

absl::StatusOr<uint64_t> WriteStream::Finish() {
  finished_ = true;
  v1::WriteRequest commit;
  commit.mutable_commit();
  writer_->WriteLast(commit, grpc::WriteOptions());
  absl::Status status = FromGrpc(writer_->Finish());
  if (!status.ok()) return status;
  return response_.committed_size();
}

absl::Status WriteStream::Cancel() {
  finished_ = true;
  context_.TryCancel();
  return FromGrpc(writer_->Finish());
}

TestClient::TestClient(std::shared_ptr<grpc::Channel> channel, Session session,
                       absl::Duration deadline)
    : channel_(channel),
      stub_(v1::Backend::NewStub(channel)),
      session_(std::move(session)),
      deadline_(deadline) {}

TestClient TestClient::WithSession(Session session) const {
  return TestClient(channel_, std::move(session), deadline_);
}

void TestClient::SetDeadline(grpc::ClientContext* context) const {
  ApplyDeadline(context, deadline_);
}

template <typename Request, typename Response>
absl::Status TestClient::Unary(
    grpc::Status (v1::Backend::Stub::*method)(grpc::ClientContext*,
                                              const Request&, Response*),
    Request& request, Response* response) {
  grpc::ClientContext context;
  SetDeadline(&context);
  *request.mutable_session() = session_;
  return FromGrpc((stub_.get()->*method)(&context, request, response));
}

absl::StatusOr<v1::DescribeResponse> TestClient::Describe() {
  v1::DescribeRequest request;
  v1::DescribeResponse response;
  absl::Status status = Unary(&v1::Backend::Stub::Describe, request, &response);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<Attributes> TestClient::Stat(const std::string& path,
                                            bool follow_symlinks) {
  v1::StatRequest request;
  request.set_path(path);
  request.set_follow_symlinks(follow_symlinks);
  v1::StatResponse response;
  absl::Status status = Unary(&v1::Backend::Stub::Stat, request, &response);
  if (!status.ok()) return status;
  return response.attributes();
}

absl::Status TestClient::MakeDir(const std::string& path,
                                 std::optional<uint32_t> permissions) {
  v1::MakeDirRequest request;
  request.set_path(path);
  if (permissions) request.mutable_attributes()->set_mode(*permissions);
  v1::MakeDirResponse response;
  return Unary(&v1::Backend::Stub::MakeDir, request, &response);
}

absl::Status TestClient::RemoveDir(const std::string& path) {
  v1::RemoveDirRequest request;
  request.set_path(path);
  v1::RemoveDirResponse response;
  return Unary(&v1::Backend::Stub::RemoveDir, request, &response);
}

absl::Status TestClient::Remove(const std::string& path) {
  v1::RemoveRequest request;
  request.set_path(path);
  v1::RemoveResponse response;
  return Unary(&v1::Backend::Stub::Remove, request, &response);
}

absl::Status TestClient::Rename(const std::string& from, const std::string& to,
                                bool overwrite) {
  v1::RenameRequest request;
  request.set_from(from);
  request.set_to(to);
  request.set_overwrite(overwrite);
  v1::RenameResponse response;
  return Unary(&v1::Backend::Stub::Rename, request, &response);
}

absl::Status TestClient::SetStat(const std::string& path,
                                 const Attributes& attributes,
                                 bool follow_symlinks) {
  v1::SetStatRequest request;
  request.set_path(path);
  *request.mutable_attributes() = attributes;
  request.set_follow_symlinks(follow_symlinks);
  v1::SetStatResponse response;
  return Unary(&v1::Backend::Stub::SetStat, request, &response);
}

absl::Status TestClient::Symlink(const std::string& link_path,
                                 const std::string& target) {
  v1::SymlinkRequest request;
  request.set_link_path(link_path);
  request.set_target(target);
  v1::SymlinkResponse response;
  return Unary(&v1::Backend::Stub::Symlink, request, &response);
}

absl::StatusOr<std::string> TestClient::ReadLink(const std::string& path) {
  v1::ReadLinkRequest request;
  request.set_path(path);
  v1::ReadLinkResponse response;
  absl::Status status = Unary(&v1::Backend::Stub::ReadLink, request, &response);
  if (!status.ok()) return status;
  return response.target();
}

absl::Status TestClient::Link(const std::string& existing_path,
                              const std::string& new_path) {
  v1::LinkRequest request;
  request.set_existing_path(existing_path);
  request.set_new_path(new_path);
  v1::LinkResponse response;
  return Unary(&v1::Backend::Stub::Link, request, &response);
}

absl::StatusOr<std::string> TestClient::RealPath(const std::string& path) {
  v1::RealPathRequest request;
  request.set_path(path);
  v1::RealPathResponse response;
  absl::Status status = Unary(&v1::Backend::Stub::RealPath, request, &response);
  if (!status.ok()) return status;
  return response.path();
}

absl::StatusOr<v1::StatFsResponse> TestClient::StatFs(const std::string& path) {
  v1::StatFsRequest request;
  request.set_path(path);
  v1::StatFsResponse response;
  absl::Status status = Unary(&v1::Backend::Stub::StatFs, request, &response);
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<Listing> TestClient::ListDir(const std::string& path,
                                            const std::string& start_after) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ListDirRequest request;
  *request.mutable_session() = session_;
  request.set_path(path);
  request.set_start_after(start_after);
  auto reader = stub_->ListDir(&context, request);
  Listing listing;
  v1::ListDirResponse batch;
  while (reader->Read(&batch)) {
    ++listing.messages;
    for (DirEntry& entry : *batch.mutable_entries()) {
      listing.entries.push_back(std::move(entry));
    }
  }
  absl::Status status = FromGrpc(reader->Finish());
  if (!status.ok()) return status;
  return listing;
}

absl::StatusOr<std::vector<std::string>> TestClient::ListNames(
    const std::string& path) {
  absl::StatusOr<Listing> listing = ListDir(path);
  if (!listing.ok()) return listing.status();
  std::vector<std::string> names;
  for (const DirEntry& entry : listing->entries) names.push_back(entry.name());
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<std::vector<v1::ReadChunk>> TestClient::ReadChunks(
    const std::string& path, uint64_t offset, uint64_t length,
    uint32_t chunk_size) {
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ReadRequest request;
  *request.mutable_session() = session_;
  request.set_path(path);
  request.set_offset(offset);
  request.set_length(length);
  request.set_chunk_size(chunk_size);
  auto reader = stub_->Read(&context, request);
  std::vector<v1::ReadChunk> chunks;
  v1::ReadChunk chunk;
  while (reader->Read(&chunk)) chunks.push_back(std::move(chunk));
  absl::Status status = FromGrpc(reader->Finish());
  if (!status.ok()) return status;
  return chunks;
}

absl::StatusOr<std::string> TestClient::ReadFile(const std::string& path,
                                                 uint64_t offset,
                                                 uint64_t length,
                                                 uint32_t chunk_size) {
  absl::StatusOr<std::vector<v1::ReadChunk>> chunks =
      ReadChunks(path, offset, length, chunk_size);
  if (!chunks.ok()) return chunks.status();
  std::string data;
  for (const v1::ReadChunk& chunk : *chunks) {
    if (chunk.offset() != offset + data.size()) {
      return absl::InternalError(absl::StrCat(
          "chunk at ", chunk.offset(), ", expected ", offset + data.size()));
    }
    data += chunk.data();
  }
  return data;
}

std::unique_ptr<WriteStream> TestClient::OpenWrite(const WriteHeader& header) {
  return std::make_unique<WriteStream>(stub_.get(), session_, header,
                                       deadline_);
}

absl::StatusOr<uint64_t> TestClient::WriteFile(const std::string& path,
                                               absl::string_view data,
                                               const WriteOptions& options) {
  WriteHeader header = MakeWriteHeader(path, options.flags);
  header.set_offset(options.offset);
  if (options.permissions) {
    header.mutable_attributes()->set_mode(*options.permissions);
  }
  std::unique_ptr<WriteStream> stream = OpenWrite(header);
  const size_t step = std::max<size_t>(1, options.chunk_size);
  for (size_t done = 0; done < data.size(); done += step) {
    if (!stream->Send(options.offset + done, data.substr(done, step))) break;
  }
  return stream->Finish();
}

WriteHeader MakeWriteHeader(const std::string& path, uint32_t flags) {
  WriteHeader header;
  header.set_path(path);
  header.set_flags(flags);
  return header;
}

}  // namespace sftpgate::testing
