// SessionImpl: the SftpSession behind SftpSession::Create().
//
// Its members are defined in session_impl.cc (input, dispatch tables,
// INIT/VERSION, flow control, timers, shutdown) and in files named for the
// requests or the concern they serve (handlers_*.cc, copy_data.cc,
// bandwidth.cc, quota.cc, check_file.cc).
//
// Every request is answered exactly once through the session's Replier
// (replier.h), which also logs it, counts it in the metrics and accounts
// for it in InFlight(); handlers call replier_ directly.
//
// Thread safety: loop thread only (see sftp_session.h).

#ifndef SFTPGATE_SERVER_SFTP_SESSION_IMPL_H_
#define SFTPGATE_SERVER_SFTP_SESSION_IMPL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/alarm.h"
#include "server/backend/backend_client.h"
#include "server/sftp/file_hasher.h"
#include "server/sftp/handle_table.h"
#include "server/sftp/known_directories.h"
#include "server/sftp/op.h"
#include "server/sftp/packet_framer.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/replier.h"
#include "server/sftp/sftp_metrics.h"
#include "server/sftp/sftp_session.h"

namespace sftpgate::server::sftp {

// What a read-only session answers to a modifying request. Clients show
// the message; "Permission denied" is what they (and people) expect.
inline constexpr absl::string_view kReadOnlyMessage =
    "Permission denied (read-only session)";
// What an upload past the user's quota gets (on WRITE and on CLOSE).
inline constexpr absl::string_view kQuotaExceededMessage = "quota exceeded";
// ENOTDIR, which OpenSSH reports as SSH_FX_NO_SUCH_FILE.
inline constexpr absl::string_view kNotADirectoryMessage = "Not a directory";
// What an upload of a user with a quota gets from a backend without Usage.
inline constexpr absl::string_view kQuotaNoUsageMessage =
    "quota exceeded (the backend reports no usage)";

class SessionImpl final : public SftpSession {
 public:
  explicit SessionImpl(SftpSessionOptions options);
  ~SessionImpl() override;

  // Asks the backend what it can do (needed for VERSION). Call once, right
  // after the session is owned by a shared_ptr.
  void Start();

  // How often a session whose Describe failed may ask again (only when a
  // request needs the answer); within it such requests get the failure.
  static constexpr auto kDescribeRetryInterval = std::chrono::seconds(1);

  size_t OnChannelData(absl::string_view data) override;
  void Shutdown() override;
  size_t InFlight() const override { return replier_.InFlight(); }
  size_t ReservedOutput() const override { return replier_.ReservedOutput(); }
  void OnOutputDrained() override { MaybeResumeInput(); }

 private:
  using Handler = void (SessionImpl::*)(Op op, PacketReader& in);
  struct RequestType {
    uint8_t type;
    const char* name;
    Handler handler;
    bool modifies;
  };
  struct Extension {
    const char* name;
    const char* version;  // as advertised by OpenSSH
    Handler handler;
    bool modifies;
    // Whether the backend can serve it (decides advertising, too).
    bool (*available)(const v1::DescribeResponse& caps);
  };
  static const RequestType kRequests[];
  static const Extension kExtensions[];
  // Metrics slots (Op::slot) of a request type and of an extension.
  static int RequestSlot(const RequestType* r);
  static int ExtensionSlot(const Extension* e);

  template <typename Req, typename Resp>
  using ClientMethod =
      void (backend::BackendClient::*)(Req, backend::BackendClient::Done<Resp>);

  // One copy-data request: a backend Read stream feeding an Upload, one
  // chunk at a time (the next is requested once the previous is accepted).
  struct CopyJob {
    Op op;
    Handle* from = nullptr;  // both kept open by their `pending` count
    Handle* to = nullptr;
    uint64_t read_offset = 0;
    uint64_t write_offset = 0;
    uint64_t wanted = 0;  // 0: to end of file
    uint64_t copied = 0;
    int writes_waiting = 0;
    bool stream_ended = false;
    grpc::Status status;
    std::shared_ptr<backend::IncomingStream<backend::DataChunk>> stream;
    backend::Clock::time_point last_progress;
  };

  // The Replier's settings: this session's sink, user, metrics, events.
  Replier::Options ReplierOptions();

  // ---- input, dispatch, flow control (session_impl.cc) ----
  void HandlePacket(absl::string_view body);
  void HandleInit(PacketReader& in);
  void SendVersion();
  bool AtInputLimit() const;
  void MaybeResumeInput();
  void CloseSession(absl::string_view reason);
  void Teardown();
  void ArmTick();
  void OnTick();
  std::weak_ptr<SessionImpl> WeakSelf();
  // Runs `fn` on the loop after the current callback, if the session is
  // still alive and not shut down.
  void Later(absl::AnyInvocable<void(SessionImpl*)> fn);

  // ---- replies ----
  // Handlers answer through replier_ (Status, Result, Data, ...), which
  // answers each op exactly once. ATTRS and NAME replies carrying
  // attributes go through these two instead: they also teach the session
  // the owner and group names of the ids they carry (for the
  // users-groups-by-id extension).
  void SendAttrs(const Op& op, const v1::Attributes& attrs) {
    RememberIdNames(attrs);
    replier_.Attrs(op, attrs);
  }
  void SendDirEntries(const Op& op, const std::vector<v1::DirEntry>& entries) {
    for (const v1::DirEntry& e : entries) RememberIdNames(e.attributes());
    replier_.DirEntries(op, entries);
  }
  // Logs `handle`'s `transfer` line with `result`, once: later calls for
  // the same handle do nothing.
  void LogTransfer(Handle& handle, absl::string_view result);
  // A transfer ended with `status` (a commit's, or a download's first READ
  // error): logs it, and reports a successful one (a committed upload, a
  // download closed with every READ answered) to options_.events.
  void EndTransfer(Handle& handle, const grpc::Status& status);
  void NotifyTransfer(const Handle& handle) const;

  // ---- backend capabilities ----
  // Runs `then` once caps_ holds the backend's answer to Describe: at once
  // when it does; otherwise after asking again, with that call's status
  // (not more often than kDescribeRetryInterval: within it, `then` gets
  // the last failure at once).
  void WhenDescribed(absl::AnyInvocable<void(const grpc::Status&)> then);
  void AskDescribe();
  void Described(const grpc::Status& status, v1::DescribeResponse caps);

  // ---- backend calls ----
  // A call whose only answer is a status.
  template <typename Req, typename Resp>
  void CallForStatus(Op op, ClientMethod<Req, Resp> method, Req request);

  // ---- request helpers ----
  // Decodes a path and normalizes it; on failure answers `op`.
  bool ReadPath(PacketReader& in, Op& op, std::string* path);
  // Decodes a handle and finds it; on failure answers `op`. Requests with
  // more fields decode them all first and then call FindHandle, so a
  // malformed request is BAD_MESSAGE whatever its handle.
  Handle* ReadHandle(PacketReader& in, Op& op);
  Handle* FindHandle(absl::string_view id, Op& op);
  bool read_only() const { return options_.session.read_only(); }
  uint32_t MaxChunk() const;
  // A handle's request finished: let a waiting CLOSE go on.
  void RequestDone(Handle* handle);
  // Destroys a closing handle after the current callback (callers are
  // often inside one of the handle's own objects).
  void ReleaseLater(const std::string& id);
  // The path, or with the backend's RealPath when it has one.
  void Resolve(Op op, std::string path);

  // ---- requests ----
  void Open(Op op, PacketReader& in);
  // What OPEN learned from the backend before it answers.
  struct OpenCheck {
    struct Result {
      grpc::Status status;
      v1::Attributes attrs;
    };
    Op op;
    std::string path;
    uint32_t pflags = 0;
    v1::Attributes attrs;  // for a new file
    int waiting = 0;       // Stat calls not yet answered
    Result file;
    Result parent;  // asked only when the open may create the file
  };
  void OpenChecked(OpenCheck check);
  void OpenForReading(Op op, const std::string& path);
  // Bytes a handle's ReadAhead may buffer.
  size_t ReadAheadLimit() const;
  void FinishOpen(Op op, std::string path, uint32_t pflags,
                  v1::Attributes attrs, bool exists,
                  std::optional<QuotaAllowance> quota = std::nullopt);
  void Close(Op op, PacketReader& in);
  void FinishClose(Op op, const std::string& id);
  void Committed(Op op, const std::string& id, const grpc::Status& status);
  void Read(Op op, PacketReader& in);
  void Write(Op op, PacketReader& in);
  void Fstat(Op op, PacketReader& in);
  void Fsetstat(Op op, PacketReader& in);
  void RefuseDirectorySyntax(Op op, const std::string& path, uint32_t pflags);
  // FSTAT of upload handle `id` once its earlier commits are over.
  void FstatUpload(Op op, const std::string& id);
  void Opendir(Op op, PacketReader& in);
  void Readdir(Op op, PacketReader& in);
  void Stat(Op op, PacketReader& in);
  void Lstat(Op op, PacketReader& in);
  void StatPath(Op op, std::string path, bool follow);
  void Setstat(Op op, PacketReader& in);
  void Remove(Op op, PacketReader& in);
  void Mkdir(Op op, PacketReader& in);
  void Rmdir(Op op, PacketReader& in);
  void Realpath(Op op, PacketReader& in);
  void Rename(Op op, PacketReader& in);
  void RenamePaths(Op op, PacketReader& in, bool overwrite);
  void Readlink(Op op, PacketReader& in);
  void Symlink(Op op, PacketReader& in);
  void Extended(Op op, PacketReader& in);
  // Serves extension `e` (its arguments in `in`) once it is known whether
  // the backend supports it.
  void RunExtension(Op op, const Extension& e, PacketReader& in);
  void PosixRename(Op op, PacketReader& in);
  void Statvfs(Op op, PacketReader& in);
  void Fstatvfs(Op op, PacketReader& in);
  void StatFsPath(Op op, std::string path);
  void Hardlink(Op op, PacketReader& in);
  void Fsync(Op op, PacketReader& in);
  void Lsetstat(Op op, PacketReader& in);
  void Limits(Op op, PacketReader& in);
  void ExpandPath(Op op, PacketReader& in);
  void HomeDirectory(Op op, PacketReader& in);
  // users-groups-by-id@openssh.com: the names `ls -l` shows for the ids a
  // client saw (OpenSSH's sftp asks when it formats listings itself).
  void UsersGroupsById(Op op, PacketReader& in);
  // Remembers the owner and group names the backend sent with ids in
  // `attrs` (a bounded number), for UsersGroupsById.
  void RememberIdNames(const v1::Attributes& attrs);
  // `ids` (packed uint32s) as packed names: each remembered in `names`, or
  // else the session's user name (what long names show; long_name.h).
  std::string NamesForIds(
      absl::string_view ids,
      const absl::flat_hash_map<uint32_t, std::string>& names) const;
  void CopyData(Op op, PacketReader& in);
  // check-file-name / check-file-handle (check_file.cc).
  void CheckFileName(Op op, PacketReader& in);
  void CheckFileHandle(Op op, PacketReader& in);
  void CheckFile(Op op, std::string path, PacketReader& in);
  void CopyChunk(uint64_t job_id, backend::DataChunk chunk);
  void CopyWritten(uint64_t job_id, const grpc::Status& status);
  void CopyStreamEnded(uint64_t job_id, const grpc::Status& status);
  void MaybeFinishCopy(uint64_t job_id);
  void CheckCopyTimeouts(backend::Clock::time_point now);

  // ---- quotas (quota.cc) ----
  bool QuotaApplies() const { return options_.quota.has_quota(); }
  // An OPEN for writing of a user with a quota: asks the backend's Usage,
  // refuses a new file past quota_files, and opens with the allowance
  // quota_bytes leaves (`old_size`: the file's size when it exists).
  void OpenWithinQuota(Op op, std::string path, uint32_t pflags,
                       v1::Attributes attrs, bool exists, uint64_t old_size);
  // Whether writing `n` bytes at `offset` keeps `h` within its allowance;
  // if not, fails its upload for good (nothing of it is committed).
  bool WithinQuota(Handle* h, uint64_t offset, size_t n);
  // Whether `h`'s file may grow to `end` bytes (its allowance grows); if
  // not, logs the refusal and changes nothing.
  bool GrowWithinQuota(Handle* h, uint64_t end);
  // SETSTAT (any flavour): a size that grows the file is first reserved
  // against quota_bytes, and refused past it; anything else goes straight
  // to the backend.
  void SetStatWithinQuota(Op op, v1::SetStatRequest request);
  // Counts and logs a refusal of `kind` (bytes, files, no_usage).
  void QuotaExceeded(absl::string_view path, const char* kind, uint64_t quota);
  // Once Describe answered: logs quota_unenforceable for a user with a
  // quota on a backend without Usage (whose uploads are then refused).
  void CheckQuotaCapability();
  // statvfs for a user with a quota: `fs` with the quota as the size and
  // the usage as used.
  void StatFsWithQuota(Op op, v1::StatFsResponse fs);
  void SendStatFs(const Op& op, const v1::StatFsResponse& fs);

  // ---- bandwidth limits (bandwidth.cc) ----
  // The user's upload bucket is in debt: take no more input for now.
  bool UploadInDebt() const;
  // Charges an accepted WRITE's payload to the upload bucket.
  void ChargeUpload(size_t bytes);
  // Serves a READ (its handle's `pending` already counted) now, or queues
  // it behind the download bucket. Queued READs keep their order.
  void AdmitRead(Op op, Handle* h, uint64_t offset, uint32_t length);
  void ServeRead(Op op, Handle* h, uint64_t offset, uint32_t length);
  void ServeDeferredReads();
  // A timer for when a bucket is out of debt again (input paused by the
  // upload limit, READs queued by the download limit).
  void ArmRateTimer();
  struct DeferredRead {
    Op op;
    Handle* handle;  // kept open by its `pending` count
    uint64_t offset;
    uint32_t length;
  };
  std::deque<DeferredRead> deferred_reads_;
  std::unique_ptr<grpc::Alarm> rate_timer_;
  bool rate_timer_armed_ = false;

  SftpMetrics& metrics_;
  SftpSessionOptions options_;
  Replier replier_;
  // Brings gRPC completions and timers to the loop; shared with backend_.
  std::shared_ptr<backend::LoopPoster> poster_;
  std::shared_ptr<backend::BackendClient> backend_;
  PacketFramer framer_;
  HandleTable handles_;
  // Lets OPEN skip the parent check in a directory seen a moment ago.
  KnownDirectories known_dirs_{std::chrono::seconds(1), 64};
  // Chunk size for a stream OPEN starts before any READ: this session's
  // last READ length (clients keep one), else the common 32 KiB.
  uint32_t read_size_hint_ = 32 * 1024;
  // Now, for known_dirs_ and Describe retries: options_.clock when
  // injected, else Clock::now().
  backend::Clock::time_point Now() const {
    return options_.clock ? options_.clock() : backend::Clock::now();
  }
  // What Describe answered; empty (every capability absent) until it did.
  v1::DescribeResponse caps_;
  bool caps_known_ = false;  // caps_ holds an answer
  bool describing_ = false;  // a Describe call is in flight
  // The last Describe failure and when it came (while !caps_known_).
  grpc::Status describe_error_;
  backend::Clock::time_point describe_failed_at_;
  std::vector<absl::AnyInvocable<void(const grpc::Status&)>> describe_waiters_;
  absl::flat_hash_map<uint32_t, std::string> user_names_;
  absl::flat_hash_map<uint32_t, std::string> group_names_;

  bool init_received_ = false;
  bool describe_done_ = false;  // the first Describe finished, either way
  bool version_sent_ = false;
  bool shut_down_ = false;
  bool input_paused_ = false;
  // WRITE answers waiting for write-behind room (Upload::Options): input
  // pauses while there are any.
  size_t writes_waiting_for_room_ = 0;

  absl::flat_hash_map<uint64_t, std::unique_ptr<CopyJob>> copies_;
  // check-file requests being hashed, by request id.
  absl::flat_hash_map<uint32_t, std::shared_ptr<FileHasher>> hashers_;
  uint64_t next_copy_id_ = 1;

  std::unique_ptr<grpc::Alarm> tick_;
  bool tick_armed_ = false;
};

// ---- template definitions ----

template <typename Req, typename Resp>
void SessionImpl::CallForStatus(Op op, ClientMethod<Req, Resp> method,
                                Req request) {
  (backend_.get()->*method)(
      std::move(request),
      [this, op = std::move(op)](const grpc::Status& status, Resp&) {
        replier_.Result(op, status);
      });
}

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_SESSION_IMPL_H_
