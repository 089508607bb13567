// SftpSession: one SFTP v3 conversation over one SSH channel. The
// interface is also what the SSH layer runs for an exec request (the
// allow-listed commands in server/exec implement it too).
//
// The SSH layer (server/ssh) owns the channel and feeds its bytes in; the
// session decodes packets, dispatches each to a handler that calls the
// backend asynchronously, and writes encoded replies to a PacketSink.
// Replies go out as soon as they are ready (out of order where the SFTP
// spec allows it).
//
// Thread safety: not thread-safe. Every method is called on the owning
// loop thread, and every reply the session produces is written to the sink
// on that thread too (gRPC completions are Post()ed to the Executor).
// Hold it in a std::shared_ptr: pending backend calls keep weak references.

#ifndef SFTPGATE_SERVER_SFTP_SFTP_SESSION_H_
#define SFTPGATE_SERVER_SFTP_SFTP_SESSION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "server/backend/backend_client.h"
#include "server/common/executor.h"
#include "server/config/user_limits.h"
#include "server/events/event_sink.h"
#include "server/sftp/hash_budget.h"
#include "server/sftp/quota_ledger.h"
#include "server/sftp/rate_limiter.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server {

// Where the session's output bytes go: the SSH channel's output queue.
// Called on the loop thread only.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  // Queues `bytes` (whole, framed SFTP packets) for the channel. Never
  // blocks; the SSH layer writes as the channel window allows.
  virtual void Send(std::string bytes) = 0;
  // Queues the bytes of `buffer` from `start` on, as Send() would queue
  // them: a reply framed inside a larger buffer (a DATA reply in front of
  // a backend's chunk, backend/data_chunk.h) goes out without being
  // copied. This default copies them out for Send().
  virtual void SendFrom(std::string buffer, size_t start) {
    Send(buffer.substr(start));
  }
  // Bytes queued and not yet accepted by the channel. The session stops
  // taking input while this, plus the replies it has promised
  // (SftpSession::ReservedOutput), is above SftpLimits::max_queued_output.
  virtual size_t QueuedBytes() const = 0;
  // The same total (queued plus promised) over every channel of the SSH
  // connection this sink belongs to, its own included; the session stops
  // taking input while it is above SftpLimits::max_connection_output. 0
  // for a sink that belongs to no connection.
  virtual size_t ConnectionBacklog() const { return 0; }
  // Ends the channel (after flushing what is queued), e.g. on a protocol
  // violation that cannot be answered with a status.
  virtual void Close() = 0;
  // Exec commands only: queues `bytes` for the channel's stderr stream
  // (diagnostics), in order with Send(). The default drops them.
  virtual void SendStderr(std::string bytes) { (void)bytes; }
  // Like Close(), and reports `status` to the client as the exit-status of
  // the command the channel ran (Close() reports 0).
  virtual void Exit(int status) {
    (void)status;
    Close();
  }
};

struct SftpLimits {
  // Largest SFTP packet accepted (length field); larger ones end the
  // session before any allocation. OpenSSH uses 256 KiB + header.
  uint32_t max_packet_length = 256 * 1024 + 1024;
  // Largest READ/WRITE payload advertised in limits@openssh.com; longer
  // READs are clamped to it.
  uint32_t max_read_length = 255 * 1024;
  uint32_t max_write_length = 255 * 1024;
  // Requests being served at once; input pauses at the cap.
  uint32_t max_in_flight = 128;
  // Open handles per session; more gives SSH_FX_FAILURE.
  uint32_t max_handles = 256;
  // Output bytes queued, or promised to READs and READDIRs already taken
  // (each counts its reply's full size until it is sent), before the
  // channel's input pauses. A client that never reads its channel thus makes
  // the front end hold at most this plus one READ reply per channel.
  size_t max_queued_output = 4 * 1024 * 1024;
  // The same, over all the SFTP channels of one SSH connection.
  size_t max_connection_output = 8 * 1024 * 1024;
  // Bytes all the session's transfers may hold at once (upload
  // write-behind queues and read-ahead buffers), beyond one message per
  // transfer in progress.
  size_t max_transfer_buffer = 16 * 1024 * 1024;
  // Deadline of every unary backend call, and of a stream between chunks.
  int call_timeout_ms = 30000;
  // File bytes one SSH connection may have the front end read to compute
  // digests (HashBudget); backend-computed digests are free.
  uint64_t max_hash_bytes = uint64_t{64} << 30;
  // Whether exec requests (the allow-list in server/exec) are served.
  bool exec_commands = true;
};

struct SftpSessionOptions {
  // The authenticated session, sent on every backend request.
  v1::Session session;
  // Makes the session's client of the backend serving it (e.g.
  // backend::GrpcBackendClientFactory over a shared stub).
  backend::BackendClientFactory backend;
  Executor* executor = nullptr;  // the owning loop; not owned
  PacketSink* sink = nullptr;    // not owned; outlives the session
  SftpLimits limits;
  // The budget all sessions' transfers share (null: no process-wide cap).
  std::shared_ptr<backend::TransferBudget> total_transfer_budget;
  // What the SSH connection may still read for digests (null: the
  // session makes one from limits.max_hash_bytes).
  std::shared_ptr<sftp::HashBudget> hash_budget;
  // Called (on the loop thread) when the session can take input again
  // after OnChannelData consumed less than it was offered.
  std::function<void()> resume_input;
  // The clock the known-directories window reads (null: steady_clock).
  // Tests inject one so that what the window decides does not depend on
  // how fast the machine runs.
  std::function<std::chrono::steady_clock::time_point()> clock;
  // Where committed uploads, finished downloads, removals, renames and
  // directory changes are reported (null: nowhere); outlives the session.
  EventSink* events = nullptr;
  // Bandwidth limits of the session's user (null: unlimited): WRITE
  // payloads and READ replies are paced by them through backpressure.
  std::shared_ptr<sftp::RateLimiter> upload_rate;
  std::shared_ptr<sftp::RateLimiter> download_rate;
  // The user's quotas (quota_bytes, quota_files; 0: none). The rates in
  // it are not used here (see upload_rate, download_rate).
  UserLimits quota;
  // Where the uploads of every session of this user (and root) are
  // accounted against the quota; null: the session makes its own.
  std::shared_ptr<sftp::QuotaLedger> quota_ledger;
};

class SftpSession : public std::enable_shared_from_this<SftpSession> {
 public:
  static std::shared_ptr<SftpSession> Create(SftpSessionOptions options);
  virtual ~SftpSession() = default;

  // Offers channel bytes. Returns how many were consumed (whole packets
  // plus any partial packet it buffered). When less than data.size() the
  // session is at a limit (requests in flight or queued output); the SSH
  // layer keeps the rest in the channel (so the SSH window applies
  // backpressure) and offers it again after resume_input is called.
  virtual size_t OnChannelData(absl::string_view data) = 0;

  // The channel is gone (EOF, close, disconnect or server shutdown):
  // cancel every backend call, abort every upload that was not closed, and
  // never touch the sink again.
  virtual void Shutdown() = 0;

  // Number of requests currently being served (for idle timeouts and
  // draining on SIGTERM).
  virtual size_t InFlight() const = 0;

  // Bytes of replies promised to requests being served (a READ's reply at
  // its full length), not yet handed to the sink.
  virtual size_t ReservedOutput() const { return 0; }

  // Whether the client's EOF ends the session (SFTP, like sftp-server on
  // EOF of its stdin). When false (exec commands) the SSH layer calls
  // OnInputEnd() instead and waits for the session to Close()/Exit().
  virtual bool EndsWithInput() const { return true; }
  virtual void OnInputEnd() {}

  // Optional: the SSH layer took queued output off the sink (call it after
  // writing to the channel). A session whose input waits for the output
  // queue to drain then resumes at once (through resume_input) instead of
  // at its next poll of QueuedBytes(), a few milliseconds later.
  virtual void OnOutputDrained() {}
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_SFTP_SFTP_SESSION_H_
