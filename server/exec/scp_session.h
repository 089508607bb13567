// ScpSession: the legacy SCP protocol (scp_protocol.h) over exec, as
// OpenSSH's `scp -t` (sink: the client uploads) and `scp -f` (source: the
// client downloads) speak it, on the same backend calls as SFTP: Stat,
// MakeDir, SetStat, ListDir, Read streams and Write streams (through
// sftp::Upload, so a file that does not arrive whole is never committed).
// Paths are the session's view (relative ones from "/", its home), a
// read-only session gets "Permission denied" for every file and
// directory it would create, each file is logged as a `transfer` event
// like an SFTP transfer, and errors reach the client as \1 records (the
// transfer goes on) or end the command (protocol errors); the exit
// status is 1 when anything failed.
//
// Flow control: uploads take channel input only while the Upload accepts
// it and the user's upload rate limit is out of debt (the SSH window then
// throttles the client); downloads request the next chunk only while the
// channel's output queue is under limits.max_queued_output and the
// download rate limit is out of debt. Like SFTP transfers, files count in
// sftpgate_operations_total (op scp-upload, scp-download, scp-mkdir) and
// sftpgate_bytes_total, and a committed upload, a file sent whole and a
// directory made are reported to the event sink (UPLOAD, DOWNLOAD, MKDIR).
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_EXEC_SCP_SESSION_H_
#define SFTPGATE_SERVER_EXEC_SCP_SESSION_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_client.h"
#include "server/exec/exec_command.h"
#include "server/exec/exec_session.h"
#include "server/exec/scp_protocol.h"
#include "server/sftp/upload.h"

namespace sftpgate::server::exec {

class ScpSession final : public ExecSession {
 public:
  ScpSession(ScpCommand command, SftpSessionOptions options);
  ~ScpSession() override;

 protected:
  void Run() override;
  size_t OnInput(absl::string_view data) override;
  void OnEndOfInput() override;
  void OnShutdown() override;
  void OnOutputDrained() override;
  bool Busy() const override;
  void CheckTimeouts(std::chrono::steady_clock::time_point now) override;

 private:
  // What the channel's next input bytes are.
  enum class Input {
    kHold,         // nothing expected now (a backend call is pending)
    kRecord,       // sink: a control record line
    kFileData,     // sink: the body of the current file
    kFileStatus,   // sink: the client's \0 (or \1 line) after a body
    kFileMessage,  // sink: the rest of that \1 line
    kAck,          // source: the client's \0, \1 line or \2 line
    kAckMessage,   // source: the rest of that line
  };
  // Continuation after the client answered a record we sent: ok, or the
  // client reported an error (fatal: it gave up).
  using AckDone = absl::AnyInvocable<void(bool ok, bool fatal)>;

  struct SinkDir {
    std::string path;
    bool is_dir = false;
    std::optional<ScpTimesRecord> times;  // to set when it ends (-p)
    std::optional<uint32_t> final_mode;   // to set when it ends
  };
  struct SinkFile {
    std::string path;
    uint64_t size = 0;
    uint64_t received = 0;
    uint32_t mode = 0;
    std::optional<ScpTimesRecord> times;
    grpc::Status error;  // first upload error
    std::chrono::steady_clock::time_point start;
  };
  struct SourceDir {
    std::string path;
    std::vector<v1::DirEntry> entries;
    size_t next = 0;
  };

  void Stat(const std::string& path,
            absl::AnyInvocable<void(const grpc::Status&, const v1::Attributes&)>
                done);
  void SetTimesAndMode(const std::string& path,
                       const std::optional<ScpTimesRecord>& times,
                       std::optional<uint32_t> mode,
                       absl::AnyInvocable<void(const grpc::Status&)> done);
  // Takes bytes of a record line; true once the line is complete.
  bool TakeLine(absl::string_view data, size_t* used);
  // Sends a \1 record (the command then exits 1).
  void SendError(absl::string_view message);
  // Sends a \1 record with `message` and exits 1 (protocol errors).
  void Fatal(absl::string_view message);
  // Logs a file's `transfer` line and, unless it was aborted, counts it
  // in the op metrics with `status`.
  void LogTransfer(absl::string_view direction, const std::string& path,
                   uint64_t bytes, absl::string_view result,
                   std::chrono::steady_clock::time_point start,
                   const grpc::Status& status = grpc::Status::OK) const;

  // ---- sink (scp -t) ----
  void SinkStart(const grpc::Status& status, const v1::Attributes& attrs);
  void SinkAck();
  void SinkRefuse(absl::string_view message);
  void SinkRecord(const std::string& line);
  void SinkDirectory(std::string path, const ScpEntryRecord& entry,
                     std::optional<ScpTimesRecord> times);
  void SinkEndDirectory();
  void SinkBeginFile(std::string path, const ScpEntryRecord& entry,
                     std::optional<ScpTimesRecord> times);
  size_t SinkData(absl::string_view data);
  void SinkEndFile(bool client_ok);
  void SinkCommitted(const grpc::Status& status);

  // ---- source (scp -f) ----
  void AwaitAck(AckDone done);
  void SourceStep();
  void SourceEntry(std::string path, std::string name,
                   const v1::Attributes& attrs, bool resolved);
  void SourceDirectory(std::string path, std::string name,
                       const v1::Attributes& attrs);
  void SourceFile(std::string path, std::string name,
                  const v1::Attributes& attrs);
  // With -p, sends the entry's times first and runs `send_record` once the
  // client took them; without -p runs it at once.
  void WithTimes(const v1::Attributes& attrs,
                 absl::AnyInvocable<void()> send_record);
  void SourceStream();
  void SourcePump();
  void SourceFileDone();

  const ScpCommand command_;
  Input input_ = Input::kHold;
  std::string line_;
  bool input_ended_ = false;
  int errors_ = 0;

  // Sink.
  std::vector<SinkDir> dirs_;  // dirs_[0] is the target
  std::optional<ScpTimesRecord> pending_times_;
  std::unique_ptr<sftp::Upload> upload_;
  SinkFile file_;
  bool blocked_ = false;  // waiting for the Upload to take a write

  // Source.
  AckDone ack_done_;
  bool ack_fatal_ = false;
  size_t next_path_ = 0;
  std::vector<SourceDir> source_dirs_;
  std::shared_ptr<backend::IncomingStream<backend::DataChunk>> stream_;
  std::shared_ptr<backend::IncomingStream<v1::ListDirResponse>> listing_;
  std::string send_path_;
  uint64_t send_size_ = 0;
  uint64_t sent_ = 0;
  bool stream_done_ = false;
  bool chunk_requested_ = false;
  std::chrono::steady_clock::time_point chunk_requested_at_;
  grpc::Status stream_status_;
  std::chrono::steady_clock::time_point send_start_;
};

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_SCP_SESSION_H_
