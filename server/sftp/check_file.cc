// check-file-name and check-file-handle (draft-ietf-secsh-filexfer-
// extensions-00, section 3; paramiko's SFTPFile.check sends the handle
// form as "check-file"):
//
//   string  name or handle
//   string  hash-algorithm-list   ("md5,sha1,...": the first we serve wins)
//   uint64  start-offset
//   uint64  length                (0: to end of file)
//   uint32  block-size            (0: one hash; else >= 256, one per block)
// answered with SSH_FXP_EXTENDED_REPLY:
//   string  "check-file"
//   string  the algorithm used
//   byte[]  the hashes, concatenated
//
// The digests come from FileHasher: the backend's Hash when it has one,
// else a read of the range charged to the connection's hash budget.

#include <utility>

#include "absl/strings/str_split.h"
#include "server/sftp/digest.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/session_impl.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

// The draft's lower bound for a non-zero block size.
constexpr uint32_t kMinBlockSize = 256;

}  // namespace

void SessionImpl::CheckFileName(Op op, PacketReader& in) {
  std::string path;
  if (ReadPath(in, op, &path)) CheckFile(std::move(op), std::move(path), in);
}

void SessionImpl::CheckFileHandle(Op op, PacketReader& in) {
  absl::string_view id;
  if (!in.ReadString(&id)) return replier_.BadMessage(op);
  // The remaining fields are decoded before the handle is looked up (see
  // ReadHandle): a malformed request is BAD_MESSAGE whatever its handle.
  PacketReader rest = in;
  absl::string_view algorithms;
  uint64_t offset = 0, length = 0;
  uint32_t block_size = 0;
  if (!rest.ReadString(&algorithms) || !rest.ReadU64(&offset) ||
      !rest.ReadU64(&length) || !rest.ReadU32(&block_size)) {
    return replier_.BadMessage(op);
  }
  Handle* h = FindHandle(id, op);
  if (h == nullptr) return;
  CheckFile(std::move(op), h->path, in);
}

void SessionImpl::CheckFile(Op op, std::string path, PacketReader& in) {
  absl::string_view algorithms;
  FileHasher::Request request;
  request.path = std::move(path);
  if (!in.ReadString(&algorithms) || !in.ReadU64(&request.offset) ||
      !in.ReadU64(&request.length) || !in.ReadU32(&request.block_size)) {
    return replier_.BadMessage(op);
  }
  std::optional<v1::HashAlgorithm> algorithm;
  for (absl::string_view name : absl::StrSplit(algorithms, ',')) {
    algorithm = HashAlgorithmByName(name);
    if (algorithm.has_value()) break;
  }
  if (!algorithm.has_value()) {
    return replier_.Status(op, kFxOpUnsupported, "no supported hash algorithm");
  }
  if (request.block_size != 0 && request.block_size < kMinBlockSize) {
    return replier_.Status(op, kFxBadMessage, "block size below 256");
  }
  request.algorithm = *algorithm;
  // The reply must fit in one packet.
  const size_t digest_size = DigestSize(*algorithm);
  request.max_blocks = (options_.limits.max_packet_length - 1024) / digest_size;
  const uint32_t id = op.id;
  hashers_[id] = FileHasher::Start(
      backend_, caps_, options_.hash_budget, std::move(request),
      [this, op = std::move(op), algorithm = *algorithm](
          const grpc::Status& status, std::vector<std::string> digests) {
        // Dropped after this callback (we are inside the hasher).
        Later([id = op.id](SessionImpl* self) { self->hashers_.erase(id); });
        if (!status.ok()) return replier_.Result(op, status);
        const absl::string_view name = HashAlgorithmName(algorithm);
        size_t total = 0;
        for (const std::string& d : digests) total += d.size();
        PacketWriter out(kFxpExtendedReply, 32 + name.size() + total);
        out.U32(op.id).String("check-file").String(name);
        for (const std::string& d : digests) out.Raw(d);
        replier_.Packet(op, std::move(out).Finish(), kFxOk);
      });
}

}  // namespace sftpgate::server::sftp
