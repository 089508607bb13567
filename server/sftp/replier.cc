#include "server/sftp/replier.h"

#include <time.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/common/log.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/long_name.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/sftp_constants.h"
#include "server/sftp/status_mapping.h"

namespace sftpgate::server::sftp {

Replier::Replier(Options options) : options_(std::move(options)) {}

void Replier::Accept(const Op& op) {
  if (closed_) return;
  ++in_flight_;
  ++owed_[op.id];
  options_.metrics->requests_in_flight()->Add(1);
}

void Replier::ReserveOutput(Op* op, size_t bytes) {
  if (closed_) return;
  op->reserved_output += bytes;
  reserved_output_ += bytes;
}

void Replier::Packet(const Op& op, std::string packet, uint32_t status,
                     absl::string_view message) {
  Send(op, std::move(packet), 0, status, message);
}

void Replier::Send(const Op& op, std::string buffer, size_t start,
                   uint32_t status, absl::string_view message) {
  if (closed_) return;
  auto owed = owed_.find(op.id);
  if (owed == owed_.end()) {
    // A handler answered twice, or answered a request never accepted: a
    // bug. The client must not see a second reply for one id.
    LogEvent(LogLevel::kError, "sftp_reply_unexpected",
             {{"session", options_.session->session_id()},
              {"op", op.name},
              {"id", absl::StrCat(op.id)}});
    return;
  }
  if (--owed->second == 0) owed_.erase(owed);
  --in_flight_;
  reserved_output_ -= op.reserved_output;
  options_.metrics->requests_in_flight()->Add(-1);
  options_.metrics->CountOperation(op.slot, op.name, status);
  LogOp(op, status, message);
  if (status == kFxOk) NotifyOp(op);
  options_.sink->SendFrom(std::move(buffer), start);
  if (options_.after_reply) options_.after_reply();
}

void Replier::Status(const Op& op, uint32_t code, absl::string_view message) {
  if (message.empty()) message = StatusCodeMessage(code);
  PacketWriter out(kFxpStatus, 32 + message.size());
  out.U32(op.id).U32(code).String(message).String("");
  Packet(op, std::move(out).Finish(), code,
         code == kFxOk || code == kFxEof ? absl::string_view() : message);
}

void Replier::Result(const Op& op, const grpc::Status& status) {
  const SftpStatus s = ToSftpStatus(status);
  Status(op, s.code, s.message);
}

void Replier::Result(const Op& op, const absl::Status& status) {
  const SftpStatus s = ToSftpStatus(status);
  Status(op, s.code, s.message);
}

void Replier::BadMessage(const Op& op) {
  Status(op, kFxBadMessage, "malformed request");
}

void Replier::InvalidHandle(const Op& op) {
  Status(op, kFxFailure, "invalid handle");
}

void Replier::NewHandle(const Op& op, absl::string_view handle) {
  PacketWriter out(kFxpHandle, 16 + handle.size());
  out.U32(op.id).String(handle);
  Packet(op, std::move(out).Finish(), kFxOk);
}

void Replier::Data(const Op& op, backend::DataChunk data) {
  static_assert(backend::DataChunk::kHeadroom >= kDataReplyOverhead);
  if (data.headroom() < kDataReplyOverhead) {
    data = backend::DataChunk(data.offset(), data.data());
  }
  const size_t length = data.size();
  const size_t start = data.headroom() - kDataReplyOverhead;
  std::string buffer = std::move(data).TakeBuffer();
  EncodeDataHeader(op.id, static_cast<uint32_t>(length), &buffer[start]);
  Send(op, std::move(buffer), start, kFxOk, {});
}

void Replier::Attrs(const Op& op, const v1::Attributes& attrs) {
  PacketWriter out(kFxpAttrs, 48);
  out.U32(op.id);
  EncodeAttributes(attrs, &out);
  Packet(op, std::move(out).Finish(), kFxOk);
}

void Replier::Name(const Op& op, absl::string_view name) {
  PacketWriter out(kFxpName, 24 + 2 * name.size());
  out.U32(op.id).U32(1).String(name).String(name);
  EncodeAttributes(v1::Attributes(), &out);
  Packet(op, std::move(out).Finish(), kFxOk);
}

void Replier::DirEntries(const Op& op,
                         const std::vector<v1::DirEntry>& entries) {
  const int64_t now = time(nullptr);
  PacketWriter out(kFxpName, 4096);
  out.U32(op.id).U32(static_cast<uint32_t>(entries.size()));
  for (const v1::DirEntry& e : entries) {
    out.String(e.name()).String(FormatLongName(e.name(), e.attributes(), now,
                                               options_.session->user()));
    EncodeAttributes(e.attributes(), &out);
  }
  Packet(op, std::move(out).Finish(), kFxOk);
}

void Replier::Unsolicited(std::string packet) {
  if (closed_) return;
  options_.sink->Send(std::move(packet));
}

void Replier::Close() {
  if (closed_) return;
  closed_ = true;
  options_.metrics->requests_in_flight()->Add(
      -static_cast<int64_t>(in_flight_));
  owed_.clear();
  reserved_output_ = 0;
}

void Replier::LogOp(const Op& op, uint32_t status,
                    absl::string_view message) const {
  // Read-only ops (every READ among them) log at debug: off by default,
  // so their fields are not even built.
  const LogLevel level = op.modifying ? LogLevel::kInfo : LogLevel::kDebug;
  if (!LogEnabled(level)) return;
  std::vector<LogField> fields = {{"session", options_.session->session_id()},
                                  {"user", options_.session->user()},
                                  {"op", op.name},
                                  {"path", op.path},
                                  {"status", StatusCodeLabel(status)}};
  if (!message.empty()) fields.emplace_back("error", std::string(message));
  fields.emplace_back("ms", LogMillis(backend::Clock::now() - op.start));
  LogEvent(level, "sftp_op", fields);
}

void Replier::NotifyOp(const Op& op) const {
  if (options_.events == nullptr || op.event == v1::EVENT_KIND_UNSPECIFIED) {
    return;
  }
  v1::Event event =
      NewEvent(op.event, *options_.session,
               op.event == v1::EVENT_KIND_RENAME ? op.rename_from : op.path);
  event.set_target_path(op.rename_to);
  options_.events->Publish(std::move(event));
}

}  // namespace sftpgate::server::sftp
