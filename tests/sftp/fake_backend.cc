#include "tests/sftp/fake_backend.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server_builder.h"

namespace sftpgate::testing {
namespace {

grpc::Status Error(grpc::StatusCode code, const std::string& message) {
  return grpc::Status(code, message);
}

bool SleepUnlessCancelled(grpc::ServerContext* context, int ms) {
  const auto end =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    if (context->IsCancelled()) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return !context->IsCancelled();
}

// Largest file the fake stores, as a real store has a capacity: a SETSTAT
// or WRITE past it is RESOURCE_EXHAUSTED instead of a multi-GiB allocation
// (the session fuzzer sent a SETSTAT size of 9 GB).
constexpr uint64_t kMaxFileSize = 256 << 20;

grpc::Status TooLarge() {
  return Error(grpc::StatusCode::RESOURCE_EXHAUSTED,
               "file larger than the fake store holds");
}

bool IsChildOf(const std::string& path, const std::string& dir) {
  return ParentOf(path) == dir && path != "/";
}

}  // namespace

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return path.substr(0, slash);
}

FakeBackend::FakeBackend() {
  absl::MutexLock lock(&mu_);
  nodes_["/"] = Node{Node::kDir, "", 0755, 1700000000, 2};
  describe_.set_name("fake 1.0");
}

void FakeBackend::SetDescribe(const v1::DescribeResponse& describe) {
  absl::MutexLock lock(&mu_);
  describe_ = describe;
}

void FakeBackend::PutFile(const std::string& path, const std::string& data,
                          int64_t mtime) {
  absl::MutexLock lock(&mu_);
  nodes_[path] = Node{Node::kFile, data, 0644, mtime, 1};
}

void FakeBackend::PutDir(const std::string& path) {
  absl::MutexLock lock(&mu_);
  nodes_[path] = Node{Node::kDir, "", 0755, 1700000000, 2};
}

void FakeBackend::Clear() {
  absl::MutexLock lock(&mu_);
  nodes_.clear();
  listed_names_.clear();
  nodes_["/"] = Node{Node::kDir, "", 0755, 1700000000, 2};
}

void FakeBackend::Erase(const std::string& path) {
  absl::MutexLock lock(&mu_);
  nodes_.erase(path);
}

std::optional<std::string> FakeBackend::FileData(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(path);
  if (it == nodes_.end() || it->second.kind != Node::kFile) return std::nullopt;
  return it->second.data;
}

std::optional<v1::Attributes> FakeBackend::Attrs(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return std::nullopt;
  return ToAttributes(it->second);
}

bool FakeBackend::Exists(const std::string& path) {
  absl::MutexLock lock(&mu_);
  return nodes_.count(path) > 0;
}

v1::SymlinkRequest FakeBackend::last_symlink() {
  absl::MutexLock lock(&mu_);
  return last_symlink_;
}

v1::WriteHeader FakeBackend::last_write_header() {
  absl::MutexLock lock(&mu_);
  return last_write_header_;
}

bool FakeBackend::HoldBreak(grpc::ServerContext* context) {
  ++breaks_reached;
  while (hold_breaks.load()) {
    if (!SleepUnlessCancelled(context, 2)) return false;
  }
  return true;
}

void FakeBackend::AddListedName(const std::string& dir,
                                const std::string& name) {
  absl::MutexLock lock(&mu_);
  listed_names_.emplace(dir, name);
}

grpc::Status FakeBackend::Begin(std::atomic<int>& counter,
                                grpc::ServerContext* context,
                                const std::string* path) {
  ++counter;
  const int ms = stall_ms.load();
  if (ms > 0 && !SleepUnlessCancelled(context, ms)) {
    return Error(grpc::StatusCode::CANCELLED, "");
  }
  return path == nullptr ? grpc::Status::OK : Forced(*path);
}

grpc::Status FakeBackend::Forced(const std::string& path) {
  if (absl::StartsWith(path, "/denied")) {
    return Error(grpc::StatusCode::PERMISSION_DENIED, "denied by backend");
  }
  if (absl::StartsWith(path, "/invalid")) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "invalid name");
  }
  return grpc::Status::OK;
}

v1::Attributes FakeBackend::ToAttributes(const Node& node) const {
  v1::Attributes a;
  uint32_t type = node.kind == Node::kDir    ? 0040000
                  : node.kind == Node::kLink ? 0120000
                                             : 0100000;
  a.set_mode(type | node.perm);
  a.set_size(node.kind == Node::kDir ? 4096 : node.data.size());
  a.set_uid(1000);
  a.set_gid(1000);
  a.set_owner("alice");
  a.set_group("staff");
  a.set_atime(node.mtime);
  a.set_mtime(node.mtime);
  a.set_nlink(node.nlink);
  return a;
}

std::string FakeBackend::Follow(const std::string& path) const {
  auto it = nodes_.find(path);
  if (it == nodes_.end() || it->second.kind != Node::kLink) return path;
  const std::string& target = it->second.data;
  if (absl::StartsWith(target, "/")) return target;
  const std::string parent = ParentOf(path);
  return parent == "/" ? "/" + target : parent + "/" + target;
}

bool FakeBackend::IsDir(const std::string& path) const {
  auto it = nodes_.find(path);
  return it != nodes_.end() && it->second.kind == Node::kDir;
}

grpc::Status FakeBackend::Describe(grpc::ServerContext* context,
                                   const v1::DescribeRequest*,
                                   v1::DescribeResponse* response) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  *response = describe_;
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Stat(grpc::ServerContext* context,
                               const v1::StatRequest* request,
                               v1::StatResponse* response) {
  if (grpc::Status s = Begin(unary_calls, context, &request->path()); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  const std::string path =
      request->follow_symlinks() ? Follow(request->path()) : request->path();
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  *response->mutable_attributes() = ToAttributes(it->second);
  return grpc::Status::OK;
}

grpc::Status FakeBackend::MakeDir(grpc::ServerContext* context,
                                  const v1::MakeDirRequest* request,
                                  v1::MakeDirResponse*) {
  if (grpc::Status s = Begin(unary_calls, context, &request->path()); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  if (nodes_.count(request->path())) {
    return Error(grpc::StatusCode::ALREADY_EXISTS, "File exists");
  }
  if (!IsDir(ParentOf(request->path()))) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  Node dir{Node::kDir, "", 0755, 1700000000, 2};
  if (request->attributes().has_mode()) {
    dir.perm = request->attributes().mode() & 07777;
  }
  nodes_[request->path()] = dir;
  return grpc::Status::OK;
}

grpc::Status FakeBackend::RemoveDir(grpc::ServerContext* context,
                                    const v1::RemoveDirRequest* request,
                                    v1::RemoveDirResponse*) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  const std::string& path = request->path();
  if (path == "/") return Error(grpc::StatusCode::PERMISSION_DENIED, "root");
  if (!nodes_.count(path)) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  if (!IsDir(path)) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION, "Not a directory");
  }
  for (const auto& [p, n] : nodes_) {
    if (IsChildOf(p, path)) {
      return Error(grpc::StatusCode::FAILED_PRECONDITION,
                   "Directory not empty");
    }
  }
  nodes_.erase(path);
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Remove(grpc::ServerContext* context,
                                 const v1::RemoveRequest* request,
                                 v1::RemoveResponse*) {
  if (grpc::Status s = Begin(unary_calls, context, &request->path()); !s.ok()) {
    return s;
  }
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(request->path());
  if (it == nodes_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  if (it->second.kind == Node::kDir) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION, "Is a directory");
  }
  nodes_.erase(it);
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Rename(grpc::ServerContext* context,
                                 const v1::RenameRequest* request,
                                 v1::RenameResponse*) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  const std::string& from = request->from();
  const std::string& to = request->to();
  if (!nodes_.count(from) || !IsDir(ParentOf(to))) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  if (from == to) return grpc::Status::OK;
  if (nodes_.count(to) && !request->overwrite()) {
    return Error(grpc::StatusCode::ALREADY_EXISTS, "File exists");
  }
  std::vector<std::pair<std::string, Node>> moved;
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    if (it->first == from || absl::StartsWith(it->first, from + "/")) {
      moved.emplace_back(to + it->first.substr(from.size()), it->second);
      it = nodes_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [p, n] : moved) nodes_[p] = n;
  return grpc::Status::OK;
}

grpc::Status FakeBackend::SetStat(grpc::ServerContext* context,
                                  const v1::SetStatRequest* request,
                                  v1::SetStatResponse*) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  const std::string path =
      request->follow_symlinks() ? Follow(request->path()) : request->path();
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  const v1::Attributes& a = request->attributes();
  if (a.has_size() && a.size() > kMaxFileSize) return TooLarge();
  if (a.has_mode()) it->second.perm = a.mode() & 07777;
  if (a.has_mtime()) it->second.mtime = a.mtime();
  if (a.has_size()) it->second.data.resize(a.size());
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Symlink(grpc::ServerContext* context,
                                  const v1::SymlinkRequest* request,
                                  v1::SymlinkResponse*) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  last_symlink_ = *request;
  last_symlink_.clear_session();
  if (nodes_.count(request->link_path())) {
    return Error(grpc::StatusCode::ALREADY_EXISTS, "File exists");
  }
  nodes_[request->link_path()] =
      Node{Node::kLink, request->target(), 0777, 1700000000, 1};
  return grpc::Status::OK;
}

grpc::Status FakeBackend::ReadLink(grpc::ServerContext* context,
                                   const v1::ReadLinkRequest* request,
                                   v1::ReadLinkResponse* response) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(request->path());
  if (it == nodes_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  if (it->second.kind != Node::kLink) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "Not a symlink");
  }
  response->set_target(it->second.data);
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Link(grpc::ServerContext* context,
                               const v1::LinkRequest* request,
                               v1::LinkResponse*) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = nodes_.find(request->existing_path());
  if (it == nodes_.end()) {
    return Error(grpc::StatusCode::NOT_FOUND, "No such file");
  }
  if (nodes_.count(request->new_path())) {
    return Error(grpc::StatusCode::ALREADY_EXISTS, "File exists");
  }
  nodes_[request->new_path()] = it->second;
  return grpc::Status::OK;
}

grpc::Status FakeBackend::RealPath(grpc::ServerContext* context,
                                   const v1::RealPathRequest* request,
                                   v1::RealPathResponse* response) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  response->set_path(Follow(request->path()));
  return grpc::Status::OK;
}

grpc::Status FakeBackend::StatFs(grpc::ServerContext* context,
                                 const v1::StatFsRequest*,
                                 v1::StatFsResponse* response) {
  if (grpc::Status s = Begin(unary_calls, context); !s.ok()) return s;
  response->set_block_size(4096);
  response->set_fragment_size(4096);
  response->set_blocks(1000);
  response->set_blocks_free(600);
  response->set_blocks_available(500);
  response->set_files(100);
  response->set_files_free(50);
  response->set_files_available(40);
  response->set_filesystem_id(7);
  response->set_flags(2);
  response->set_max_name_length(255);
  return grpc::Status::OK;
}

grpc::Status FakeBackend::ListDir(
    grpc::ServerContext* context, const v1::ListDirRequest* request,
    grpc::ServerWriter<v1::ListDirResponse>* writer) {
  if (grpc::Status s = Begin(list_streams, context); !s.ok()) return s;
  v1::ListDirResponse all;
  {
    absl::MutexLock lock(&mu_);
    if (!nodes_.count(request->path())) {
      return Error(grpc::StatusCode::NOT_FOUND, "No such file");
    }
    if (!IsDir(request->path())) {
      return Error(grpc::StatusCode::FAILED_PRECONDITION, "Not a directory");
    }
    std::vector<v1::DirEntry> entries;
    for (const auto& [p, n] : nodes_) {
      if (!IsChildOf(p, request->path())) continue;
      v1::DirEntry& e = entries.emplace_back();
      e.set_name(p.substr(p.rfind('/') + 1));
      *e.mutable_attributes() = ToAttributes(n);
    }
    auto [from, to] = listed_names_.equal_range(request->path());
    for (auto it = from; it != to; ++it) {
      v1::DirEntry& e = entries.emplace_back();
      e.set_name(it->second);
      e.mutable_attributes()->set_mode(0100644);
    }
    // The contract's order (bytes of the name) and start_after.
    std::stable_sort(entries.begin(), entries.end(),
                     [](const v1::DirEntry& a, const v1::DirEntry& b) {
                       return a.name() < b.name();
                     });
    for (v1::DirEntry& e : entries) {
      if (e.name() > request->start_after()) {
        *all.add_entries() = std::move(e);
      }
    }
  }
  const int batch = std::max(1, list_batch.load());
  const int break_after = TakeBreak() ? break_after_messages.load() : -1;
  if (break_after == 0) return Error(grpc::StatusCode::UNAVAILABLE, "gone");
  int sent = 0;
  v1::ListDirResponse out;
  for (int i = 0; i < all.entries_size(); ++i) {
    *out.add_entries() = all.entries(i);
    if (out.entries_size() == batch || i + 1 == all.entries_size()) {
      if (!writer->Write(out)) return Error(grpc::StatusCode::CANCELLED, "");
      if (++sent == break_after) {
        if (!HoldBreak(context)) return Error(grpc::StatusCode::CANCELLED, "");
        return Error(grpc::StatusCode::UNAVAILABLE, "replica died");
      }
      out.Clear();
    }
  }
  return grpc::Status::OK;
}

grpc::Status FakeBackend::Read(grpc::ServerContext* context,
                               const v1::ReadRequest* request,
                               grpc::ServerWriter<v1::ReadChunk>* writer) {
  if (grpc::Status s = Begin(read_streams, context); !s.ok()) return s;
  std::string data;
  {
    absl::MutexLock lock(&mu_);
    auto it = nodes_.find(Follow(request->path()));
    if (it == nodes_.end()) {
      return Error(grpc::StatusCode::NOT_FOUND, "No such file");
    }
    if (it->second.kind == Node::kDir) {
      return Error(grpc::StatusCode::FAILED_PRECONDITION, "Is a directory");
    }
    data = it->second.data;
  }
  const uint64_t chunk_size = std::clamp<uint64_t>(
      request->chunk_size() ? request->chunk_size() : 65536, 1, 1 << 20);
  const int break_after = TakeBreak() ? break_after_messages.load() : -1;
  if (break_after == 0) return Error(grpc::StatusCode::UNAVAILABLE, "gone");
  int sent = 0;
  uint64_t offset = request->offset();
  const uint64_t end =
      request->length() == 0
          ? data.size()
          : std::min<uint64_t>(data.size(), offset + request->length());
  while (offset < end) {
    const int delay = read_chunk_delay_ms.load();
    if (delay > 0 && !SleepUnlessCancelled(context, delay)) {
      return Error(grpc::StatusCode::CANCELLED, "");
    }
    v1::ReadChunk chunk;
    chunk.set_offset(offset);
    const uint64_t n = std::min(chunk_size, end - offset);
    chunk.set_data(data.substr(offset, n));
    if (!writer->Write(chunk)) return Error(grpc::StatusCode::CANCELLED, "");
    read_bytes_sent += n;
    if (++sent == break_after) {
      return Error(grpc::StatusCode::UNAVAILABLE, "replica died");
    }
    offset += n;
  }
  return grpc::Status::OK;
}

bool FakeBackend::TakeBreak() {
  int left = streams_to_break.load();
  while (left > 0 && !streams_to_break.compare_exchange_weak(left, left - 1)) {
  }
  return left > 0;
}

grpc::Status FakeBackend::Write(grpc::ServerContext* /*context*/,
                                grpc::ServerReader<v1::WriteRequest>* reader,
                                v1::WriteResponse* response) {
  ++write_streams;
  v1::WriteRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    ++aborted_uploads;
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "no header");
  }
  const v1::WriteHeader header = message.header();
  const std::string& path = header.path();
  std::string data;
  bool random_write;
  {
    absl::MutexLock lock(&mu_);
    last_write_header_ = header;
    random_write = describe_.random_write();
    auto it = nodes_.find(path);
    if (it != nodes_.end()) {
      if (it->second.kind == Node::kDir) {
        return Error(grpc::StatusCode::FAILED_PRECONDITION, "Is a directory");
      }
      if (header.flags() & v1::WriteHeader::FLAG_EXCLUSIVE) {
        return Error(grpc::StatusCode::ALREADY_EXISTS, "File exists");
      }
      if (!(header.flags() & v1::WriteHeader::FLAG_TRUNCATE)) {
        data = it->second.data;
      }
    } else if (!(header.flags() & v1::WriteHeader::FLAG_CREATE) ||
               !IsDir(ParentOf(path))) {
      return Error(grpc::StatusCode::NOT_FOUND, "No such file");
    }
  }
  uint64_t next = header.offset();
  bool commit = false;
  while (reader->Read(&message)) {
    if (message.has_commit() && !commit) {
      commit = true;
      continue;
    }
    if (commit || !message.has_chunk()) {
      ++aborted_uploads;
      return Error(grpc::StatusCode::INVALID_ARGUMENT, "no chunk");
    }
    ++write_chunks;
    const v1::WriteChunk& chunk = message.chunk();
    uint64_t at = chunk.offset();
    if (header.flags() & v1::WriteHeader::FLAG_APPEND) {
      at = data.size();
    } else if (!random_write && at != next) {
      ++aborted_uploads;
      return Error(grpc::StatusCode::INVALID_ARGUMENT, "not sequential");
    }
    if (chunk.data().size() > kMaxFileSize ||
        at > kMaxFileSize - chunk.data().size()) {
      ++aborted_uploads;
      return TooLarge();
    }
    if (data.size() < at + chunk.data().size()) {
      data.resize(at + chunk.data().size());
    }
    data.replace(at, chunk.data().size(), chunk.data());
    next = chunk.offset() + chunk.data().size();
  }
  if (!commit) {  // cancelled or cut off: only the commit message commits
    ++aborted_uploads;
    return Error(grpc::StatusCode::ABORTED, "upload aborted");
  }
  if (absl::StartsWith(path, "/full")) {
    ++aborted_uploads;
    return Error(grpc::StatusCode::RESOURCE_EXHAUSTED, "disk full");
  }
  absl::MutexLock lock(&mu_);
  Node node{Node::kFile, data, 0644, 1700000000, 1};
  if (header.attributes().has_mode()) {
    node.perm = header.attributes().mode() & 07777;
  }
  if (auto it = nodes_.find(path); it != nodes_.end()) {
    node.perm = it->second.perm;
  }
  nodes_[path] = node;
  response->set_committed_size(data.size());
  ++committed_uploads;
  return grpc::Status::OK;
}

FakeServer::FakeServer(FakeBackend* backend) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port_);
  builder.RegisterService(backend);
  builder.SetMaxReceiveMessageSize(8 << 20);
  builder.SetMaxSendMessageSize(8 << 20);
  server_ = builder.BuildAndStart();
}

FakeServer::~FakeServer() { Stop(); }

std::string FakeServer::target() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void FakeServer::SetServing(bool serving) {
  server_->GetHealthCheckService()->SetServingStatus(serving);
}

void FakeServer::Stop() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now());
    server_->Wait();
    server_.reset();
  }
}

}  // namespace sftpgate::testing
