// Replier: the one place an SFTP request is answered.
//
// Every request the session accepts is registered here (Accept) and
// answered through exactly one of the reply methods, which encode the
// packet, queue it on the session's output sink, count it in the
// sftpgate_operations_total metric, log it (sftp_op) and report it to the
// event sink. "Every request is answered exactly once" is therefore a
// property of this class: it counts the requests in flight, and a second
// reply for a request id that is not outstanding is dropped and logged as
// a bug (sftp_reply_unexpected) instead of reaching the client.
//
// Thread safety: not thread-safe; the owning session's loop thread only.

#ifndef SFTPGATE_SERVER_SFTP_REPLIER_H_
#define SFTPGATE_SERVER_SFTP_REPLIER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"
#include "server/backend/data_chunk.h"
#include "server/events/event_sink.h"
#include "server/sftp/op.h"
#include "server/sftp/sftp_metrics.h"
#include "server/sftp/sftp_session.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

class Replier {
 public:
  struct Options {
    PacketSink* sink = nullptr;            // not owned; outlives the Replier
    const v1::Session* session = nullptr;  // not owned; for logs, events
                                           // and long names
    SftpMetrics* metrics = nullptr;        // not owned
    EventSink* events = nullptr;           // not owned; null: no events
    // Called after every reply is queued (the session resumes paused
    // input there: a slot in flight was freed).
    std::function<void()> after_reply;
  };
  explicit Replier(Options options);

  Replier(const Replier&) = delete;
  Replier& operator=(const Replier&) = delete;

  // Registers a decoded request: it counts in InFlight() (and the
  // sftpgate_requests_in_flight gauge) until one reply answers it.
  void Accept(const Op& op);

  // Requests accepted and not answered yet.
  size_t InFlight() const { return in_flight_; }

  // Counts `bytes` of `op`'s future reply in ReservedOutput() until the
  // reply is queued: the session's output limits then hold for replies
  // to requests it has already taken, not only for queued ones.
  void ReserveOutput(Op* op, size_t bytes);
  // Bytes reserved by the requests in flight.
  size_t ReservedOutput() const { return reserved_output_; }

  // ---- replies: each answers `op` once; after Close() they do nothing ----
  // A STATUS reply; an empty `message` means the code's default text.
  void Status(const Op& op, uint32_t code, absl::string_view message = {});
  // STATUS for a backend's or the front end's own result (status_mapping).
  void Result(const Op& op, const grpc::Status& status);
  void Result(const Op& op, const absl::Status& status);
  void BadMessage(const Op& op);     // a request that does not decode
  void InvalidHandle(const Op& op);  // a handle the session does not hold
  // A HANDLE reply (OPEN, OPENDIR).
  void NewHandle(const Op& op, absl::string_view handle);
  // A DATA reply whose payload is `data`'s: framed in the room in front of
  // it, so the buffer goes out as it is (a chunk with less room than a
  // header, only an empty one in practice, is copied).
  void Data(const Op& op, backend::DataChunk data);
  void Attrs(const Op& op, const v1::Attributes& attrs);
  // A NAME reply with one entry whose long name is the name itself and
  // whose attributes are empty (REALPATH, READLINK, expand-path, ...).
  void Name(const Op& op, absl::string_view name);
  // A NAME reply with `ls -l` long names, as READDIR sends.
  void DirEntries(const Op& op, const std::vector<v1::DirEntry>& entries);
  // An already encoded reply to `op` (EXTENDED_REPLY and the like) whose
  // SFTP status, for metrics and the log, is `status`; `message` is the
  // error text for the log (empty for success).
  void Packet(const Op& op, std::string packet, uint32_t status,
              absl::string_view message = {});

  // Bytes that are not replies to a request (VERSION).
  void Unsolicited(std::string packet);

  // The session is over: later replies are dropped (nobody reads them)
  // and the requests still in flight leave the gauge. Idempotent.
  void Close();

 private:
  // Answers `op` with the bytes of `buffer` from `start` on (Packet's
  // work).
  void Send(const Op& op, std::string buffer, size_t start, uint32_t status,
            absl::string_view message);
  void LogOp(const Op& op, uint32_t status, absl::string_view message) const;
  void NotifyOp(const Op& op) const;

  Options options_;
  bool closed_ = false;
  size_t in_flight_ = 0;
  size_t reserved_output_ = 0;
  // Request id -> replies still owed (a client may reuse an id while its
  // first request is in flight); at most the in-flight cap entries.
  absl::flat_hash_map<uint32_t, uint32_t> owed_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_REPLIER_H_
