#include "server/sftp/session_impl.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/describe_backend.h"
#include "server/sftp/long_name.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/sftp_constants.h"
#include "server/sftp/status_mapping.h"
#include "sftpgate/paths.h"

namespace sftpgate::server::sftp {
namespace {

// While input waits for the output queue to drain, how often to look
// (unless the SSH layer calls OnOutputDrained first).
constexpr auto kOutputPollInterval = std::chrono::milliseconds(2);

bool Always(const v1::DescribeResponse&) { return true; }
bool HasStatFs(const v1::DescribeResponse& c) { return c.stat_fs(); }
bool HasHardLinks(const v1::DescribeResponse& c) { return c.hard_links(); }
bool HasSetStatNoFollow(const v1::DescribeResponse& c) {
  return c.set_stat_no_follow();
}

}  // namespace

// One table from packet type to handler, as in OpenSSH's sftp-server.
// `modifies`: refused in read-only sessions before anything is decoded
// (OPEN decides for itself from its flags).
const SessionImpl::RequestType SessionImpl::kRequests[] = {
    {kFxpOpen, "OPEN", &SessionImpl::Open, false},
    {kFxpClose, "CLOSE", &SessionImpl::Close, false},
    {kFxpRead, "READ", &SessionImpl::Read, false},
    {kFxpWrite, "WRITE", &SessionImpl::Write, true},
    {kFxpLstat, "LSTAT", &SessionImpl::Lstat, false},
    {kFxpFstat, "FSTAT", &SessionImpl::Fstat, false},
    {kFxpSetstat, "SETSTAT", &SessionImpl::Setstat, true},
    {kFxpFsetstat, "FSETSTAT", &SessionImpl::Fsetstat, true},
    {kFxpOpendir, "OPENDIR", &SessionImpl::Opendir, false},
    {kFxpReaddir, "READDIR", &SessionImpl::Readdir, false},
    {kFxpRemove, "REMOVE", &SessionImpl::Remove, true},
    {kFxpMkdir, "MKDIR", &SessionImpl::Mkdir, true},
    {kFxpRmdir, "RMDIR", &SessionImpl::Rmdir, true},
    {kFxpRealpath, "REALPATH", &SessionImpl::Realpath, false},
    {kFxpStat, "STAT", &SessionImpl::Stat, false},
    {kFxpRename, "RENAME", &SessionImpl::Rename, true},
    {kFxpReadlink, "READLINK", &SessionImpl::Readlink, false},
    {kFxpSymlink, "SYMLINK", &SessionImpl::Symlink, true},
    {kFxpExtended, "EXTENDED", &SessionImpl::Extended, false},
};

// EXTENDED requests, in the order VERSION advertises them.
const SessionImpl::Extension SessionImpl::kExtensions[] = {
    {"posix-rename@openssh.com", "1", &SessionImpl::PosixRename, true, &Always},
    {"statvfs@openssh.com", "2", &SessionImpl::Statvfs, false, &HasStatFs},
    {"fstatvfs@openssh.com", "2", &SessionImpl::Fstatvfs, false, &HasStatFs},
    {"hardlink@openssh.com", "1", &SessionImpl::Hardlink, true, &HasHardLinks},
    {"fsync@openssh.com", "1", &SessionImpl::Fsync, true, &Always},
    {"lsetstat@openssh.com", "1", &SessionImpl::Lsetstat, true,
     &HasSetStatNoFollow},
    {"limits@openssh.com", "1", &SessionImpl::Limits, false, &Always},
    {"expand-path@openssh.com", "1", &SessionImpl::ExpandPath, false, &Always},
    {"copy-data", "1", &SessionImpl::CopyData, true, &Always},
    {"home-directory", "1", &SessionImpl::HomeDirectory, false, &Always},
    {"users-groups-by-id@openssh.com", "1", &SessionImpl::UsersGroupsById,
     false, &Always},
    {"check-file-name", "1", &SessionImpl::CheckFileName, false, &Always},
    {"check-file-handle", "1", &SessionImpl::CheckFileHandle, false, &Always},
};

// paramiko's SFTPFile.check() sends check-file-handle under this name.
constexpr absl::string_view kParamikoCheckFile = "check-file";

// Metrics slots: 0 for unknown request types, then kRequests in order,
// then kExtensions in order.
int SessionImpl::RequestSlot(const RequestType* r) {
  return 1 + static_cast<int>(r - kRequests);
}

int SessionImpl::ExtensionSlot(const Extension* e) {
  return 1 + static_cast<int>(std::size(kRequests) + (e - kExtensions));
}

SessionImpl::SessionImpl(SftpSessionOptions options)
    : metrics_(SftpMetrics::Get()),
      options_(std::move(options)),
      replier_(ReplierOptions()),
      framer_(options_.limits.max_packet_length),
      handles_(options_.limits.max_handles) {
  static_assert(1 + std::size(kRequests) + std::size(kExtensions) <=
                    SftpMetrics::kSftpOpSlots,
                "more request types than metrics slots");
  poster_ = std::make_shared<backend::LoopPoster>(options_.executor);
  if (QuotaApplies() && options_.quota_ledger == nullptr) {
    options_.quota_ledger = std::make_shared<QuotaLedger>();
  }
  backend::BackendClientOptions client;
  client.session = options_.session;
  client.poster = poster_;
  client.call_timeout =
      std::chrono::milliseconds(options_.limits.call_timeout_ms);
  client.budget = std::make_shared<backend::TransferBudget>(
      options_.limits.max_transfer_buffer, options_.total_transfer_budget);
  backend_ = options_.backend(std::move(client));
  if (options_.hash_budget == nullptr) {
    options_.hash_budget =
        std::make_shared<HashBudget>(options_.limits.max_hash_bytes);
  }
}

SessionImpl::~SessionImpl() { Teardown(); }

Replier::Options SessionImpl::ReplierOptions() {
  Replier::Options replier;
  replier.sink = options_.sink;
  replier.session = &options_.session;
  replier.metrics = &metrics_;
  replier.events = options_.events;
  replier.after_reply = [this] { MaybeResumeInput(); };
  return replier;
}

std::weak_ptr<SessionImpl> SessionImpl::WeakSelf() {
  return std::static_pointer_cast<SessionImpl>(shared_from_this());
}

void SessionImpl::Later(absl::AnyInvocable<void(SessionImpl*)> fn) {
  poster_->Post([weak = WeakSelf(), fn = std::move(fn)]() mutable {
    auto self = weak.lock();
    if (self != nullptr && !self->shut_down_) fn(self.get());
  });
}

void SessionImpl::Start() { AskDescribe(); }

// ---- backend capabilities ----

void SessionImpl::AskDescribe() {
  describing_ = true;
  // The client never runs a callback after its Shutdown() (in Teardown),
  // so `this` is alive whenever this one runs.
  DescribeBackend(
      *backend_, options_.session,
      [this](const grpc::Status& status, v1::DescribeResponse caps) {
        Described(status, std::move(caps));
      });
}

void SessionImpl::Described(const grpc::Status& status,
                            v1::DescribeResponse caps) {
  describing_ = false;
  if (status.ok()) {
    caps_ = std::move(caps);
    caps_known_ = true;
    describe_error_ = grpc::Status::OK;
    CheckQuotaCapability();
  } else {
    // A backend restarting, or not reachable yet: its capabilities are
    // unknown, not absent, so the requests that need them ask again.
    describe_error_ = status;
    describe_failed_at_ = Now();
  }
  if (!describe_done_) {
    describe_done_ = true;
    // VERSION cannot wait for the backend: it advertises what is known.
    if (init_received_ && !version_sent_) SendVersion();
  }
  for (auto& then : std::exchange(describe_waiters_, {})) then(status);
}

void SessionImpl::WhenDescribed(
    absl::AnyInvocable<void(const grpc::Status&)> then) {
  if (caps_known_) return then(grpc::Status::OK);
  if (!describing_ && describe_done_ &&
      Now() - describe_failed_at_ < kDescribeRetryInterval) {
    // Asked a moment ago and failed: a backend that is down is not asked
    // again for every request.
    return then(describe_error_);
  }
  describe_waiters_.push_back(std::move(then));
  if (!describing_) AskDescribe();
}

// ---- input ----

size_t SessionImpl::OnChannelData(absl::string_view data) {
  if (shut_down_) return data.size();  // nobody will read a reply
  input_paused_ = false;
  absl::string_view rest = data;
  while (!rest.empty()) {
    if (AtInputLimit()) {
      input_paused_ = true;
      break;
    }
    absl::string_view body;
    const PacketFramer::Result r = framer_.Next(&rest, &body);
    if (r == PacketFramer::Result::kNeedMore) break;
    if (r == PacketFramer::Result::kBadLength) {
      CloseSession("packet length out of bounds");
      return data.size();
    }
    HandlePacket(body);
    if (shut_down_) return data.size();
  }
  ArmTick();
  if (input_paused_) ArmRateTimer();
  return data.size() - rest.size();
}

bool SessionImpl::AtInputLimit() const {
  // Until VERSION is out, requests wait: handlers depend on Describe.
  if (init_received_ && !version_sent_) return true;
  return replier_.InFlight() >= options_.limits.max_in_flight ||
         options_.sink->QueuedBytes() + replier_.ReservedOutput() >
             options_.limits.max_queued_output ||
         options_.sink->ConnectionBacklog() >
             options_.limits.max_connection_output ||
         writes_waiting_for_room_ > 0 || UploadInDebt();
}

void SessionImpl::MaybeResumeInput() {
  if (!input_paused_ || shut_down_ || AtInputLimit()) return;
  input_paused_ = false;
  if (options_.resume_input == nullptr) return;
  // Not inline: the SSH layer may feed data back at once, and we may be
  // deep inside a completion.
  Later([](SessionImpl* self) {
    if (self->options_.resume_input) self->options_.resume_input();
  });
}

void SessionImpl::HandlePacket(absl::string_view body) {
  PacketReader in(body);
  uint8_t type = 0;
  in.ReadU8(&type);  // the framer guarantees at least 5 bytes
  if (!init_received_ || type == kFxpInit) {
    // OpenSSH's sftp-server ends the session on both, as do we: a client
    // that does not start with a single INIT is not speaking SFTP.
    if (type != kFxpInit) return CloseSession("request before INIT");
    if (init_received_) return CloseSession("duplicate INIT");
    return HandleInit(in);
  }
  Op op;
  op.start = backend::Clock::now();
  in.ReadU32(&op.id);  // present: packets are at least 5 bytes long
  replier_.Accept(op);
  const RequestType* request = nullptr;
  for (const RequestType& r : kRequests) {
    if (r.type == type) request = &r;
  }
  if (request == nullptr) {
    op.name = "UNKNOWN";
    op.slot = 0;
    return replier_.Status(op, kFxOpUnsupported,
                           absl::StrCat("unsupported request type ", type));
  }
  op.name = request->name;
  op.slot = RequestSlot(request);
  op.modifying = request->modifies;
  if (request->modifies && read_only()) {
    return replier_.Status(op, kFxPermissionDenied, kReadOnlyMessage);
  }
  (this->*(request->handler))(std::move(op), in);
}

void SessionImpl::Extended(Op op, PacketReader& in) {
  absl::string_view name;
  if (!in.ReadString(&name)) return replier_.BadMessage(op);
  if (name == kParamikoCheckFile) name = "check-file-handle";
  for (const Extension& e : kExtensions) {
    if (name != e.name) continue;
    op.name = e.name;
    op.slot = ExtensionSlot(&e);
    op.modifying = e.modifies;
    return RunExtension(std::move(op), e, in);
  }
  replier_.Status(op, kFxOpUnsupported, "unsupported extension");
}

void SessionImpl::RunExtension(Op op, const Extension& e, PacketReader& in) {
  if (!e.available(caps_)) {
    if (caps_known_) return replier_.Status(op, kFxOpUnsupported);
    // Unknown until Describe answers: "unsupported" could be false.
    return WhenDescribed(
        [this, op = std::move(op), &e,
         args = std::string(in.rest())](const grpc::Status& status) mutable {
          if (!status.ok()) return replier_.Result(op, status);
          PacketReader again(args);
          RunExtension(std::move(op), e, again);
        });
  }
  if (e.modifies && read_only()) {
    return replier_.Status(op, kFxPermissionDenied, kReadOnlyMessage);
  }
  (this->*(e.handler))(std::move(op), in);
}

void SessionImpl::HandleInit(PacketReader& in) {
  uint32_t client_version = 0;
  in.ReadU32(&client_version);
  init_received_ = true;
  if (describe_done_) SendVersion();
  // else Start()'s Describe completion sends it; input waits meanwhile.
}

void SessionImpl::SendVersion() {
  version_sent_ = true;
  PacketWriter out(kFxpVersion, 512);
  out.U32(kProtocolVersion);
  for (const Extension& e : kExtensions) {
    if (e.available(caps_)) out.String(e.name).String(e.version);
  }
  replier_.Unsolicited(std::move(out).Finish());
  MaybeResumeInput();
}

void SessionImpl::CloseSession(absl::string_view reason) {
  if (shut_down_) return;
  LogEvent(LogLevel::kWarning, "sftp_protocol_error",
           {{"session", options_.session.session_id()},
            {"user", options_.session.user()},
            {"reason", std::string(reason)}});
  options_.sink->Close();
  Shutdown();
}

// ---- shutdown and timers ----

void SessionImpl::Shutdown() {
  if (shut_down_) return;
  // Transfers the client never closed (or whose commit is still running)
  // end here: every file handle gets its one `transfer` line.
  for (Handle* h : handles_.All()) LogTransfer(*h, "aborted");
  Teardown();
}

void SessionImpl::Teardown() {
  // Requests never answered leave the gauge with the session; later
  // replies are dropped.
  replier_.Close();
  shut_down_ = true;
  poster_->Detach();
  backend_->Shutdown();
  describe_waiters_.clear();  // requests never answered (see above)
  copies_.clear();            // before the handles they point to
  deferred_reads_.clear();
  rate_timer_.reset();
  hashers_.clear();  // cancels their backend calls
  // Dropping the handles cancels their streams: uploads abort.
  handles_.TakeAll();
  tick_.reset();
}

void SessionImpl::ArmTick() {
  if (tick_armed_ || shut_down_) return;
  backend::Clock::duration interval;
  if (input_paused_) {
    interval = kOutputPollInterval;
  } else if (!handles_.All().empty() || !copies_.empty()) {
    interval = std::clamp<backend::Clock::duration>(
        backend_->call_timeout() / 4, std::chrono::milliseconds(10),
        std::chrono::seconds(1));
  } else {
    return;
  }
  tick_armed_ = true;
  tick_ = std::make_unique<grpc::Alarm>();
  tick_->Set(std::chrono::system_clock::now() + interval,
             [poster = poster_, weak = WeakSelf()](bool) {
               poster->Post([weak] {
                 if (auto self = weak.lock()) self->OnTick();
               });
             });
}

void SessionImpl::OnTick() {
  tick_armed_ = false;
  if (shut_down_) return;
  const backend::Clock::time_point now = backend::Clock::now();
  for (Handle* h : handles_.All()) {
    if (h->reader != nullptr) h->reader->CheckTimeout(now);
    if (h->upload != nullptr) h->upload->CheckTimeout(now);
    if (h->listing != nullptr) h->listing->CheckTimeout(now);
  }
  CheckCopyTimeouts(now);
  MaybeResumeInput();
  ArmTick();
}

void SessionImpl::LogTransfer(Handle& handle, absl::string_view result) {
  if (!handle.transfer_open) return;
  handle.transfer_open = false;
  const bool upload = handle.upload != nullptr;
  LogEvent(LogLevel::kInfo, "transfer",
           {{"session", options_.session.session_id()},
            {"user", options_.session.user()},
            {"direction", upload ? "upload" : "download"},
            {"path", handle.path},
            {"bytes", absl::StrCat(upload ? handle.upload->bytes_written()
                                          : handle.bytes_read)},
            {"result", std::string(result)},
            {"ms", LogMillis(backend::Clock::now() - handle.opened)}});
}

void SessionImpl::EndTransfer(Handle& handle, const grpc::Status& status) {
  if (!handle.transfer_open) return;
  if (!status.ok()) {
    // The backend's words, as in sftp_op's error when it has none.
    return LogTransfer(handle, status.error_message().empty()
                                   ? ToSftpStatus(status).message
                                   : status.error_message());
  }
  LogTransfer(handle, "ok");
  NotifyTransfer(handle);
}

void SessionImpl::NotifyTransfer(const Handle& handle) const {
  if (options_.events == nullptr) return;
  const bool upload = handle.upload != nullptr;
  v1::Event event =
      NewEvent(upload ? v1::EVENT_KIND_UPLOAD : v1::EVENT_KIND_DOWNLOAD,
               options_.session, handle.path);
  event.set_size(upload ? handle.upload->committed_size() : handle.bytes_read);
  event.set_duration_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                            backend::Clock::now() - handle.opened)
                            .count());
  options_.events->Publish(std::move(event));
}

// ---- request helpers ----

bool SessionImpl::ReadPath(PacketReader& in, Op& op, std::string* path) {
  absl::string_view raw;
  if (!in.ReadString(&raw)) {
    replier_.BadMessage(op);
    return false;
  }
  absl::StatusOr<std::string> normalized = NormalizePath(raw);
  if (!normalized.ok()) {
    replier_.Result(op, normalized.status());
    return false;
  }
  *path = *std::move(normalized);
  if (raw.size() > 1 && raw.back() == '/' && *path != "/") {
    op.trailing_slash = true;
  }
  if (op.path.empty()) {
    op.path = *path;
  } else {
    absl::StrAppend(&op.path, " -> ", *path);
  }
  return true;
}

Handle* SessionImpl::ReadHandle(PacketReader& in, Op& op) {
  absl::string_view id;
  if (!in.ReadString(&id)) {
    replier_.BadMessage(op);
    return nullptr;
  }
  return FindHandle(id, op);
}

Handle* SessionImpl::FindHandle(absl::string_view id, Op& op) {
  Handle* h = handles_.Find(id);
  if (h == nullptr) {
    replier_.InvalidHandle(op);
    return nullptr;
  }
  op.path = h->path;
  return h;
}

uint32_t SessionImpl::MaxChunk() const {
  return caps_.max_chunk_size() > 0 ? caps_.max_chunk_size() : 1024 * 1024;
}

void SessionImpl::RequestDone(Handle* handle) {
  --handle->pending;
  if (handle->pending > 0 || handle->on_idle == nullptr) return;
  Later([id = handle->id](SessionImpl* self) {
    Handle* h = self->handles_.FindClosing(id);
    if (h == nullptr || h->on_idle == nullptr || h->pending > 0) return;
    auto on_idle = std::move(h->on_idle);
    h->on_idle = nullptr;
    on_idle();
  });
}

void SessionImpl::ReleaseLater(const std::string& id) {
  Later([id](SessionImpl* self) { self->handles_.Release(id); });
}

}  // namespace sftpgate::server::sftp
