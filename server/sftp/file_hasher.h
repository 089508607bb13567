// FileHasher: digests of a range of one file, by the cheapest means the
// backend offers. After a Stat (which also rejects directories and
// special files), it asks the backend's optional Hash call when Describe
// lists the algorithm; when the backend answers UNIMPLEMENTED for this
// request, or has no Hash, it reads the range with a Read stream (one
// chunk at a time: nothing is buffered beyond the chunk being hashed) and
// hashes it here, charging the bytes to the connection's HashBudget.
//
// Thread safety: loop thread only. Hold it in a shared_ptr (completions
// keep weak references); dropping it cancels the read stream, and `done`
// then never runs.

#ifndef SFTPGATE_SERVER_SFTP_FILE_HASHER_H_
#define SFTPGATE_SERVER_SFTP_FILE_HASHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "server/backend/backend_client.h"
#include "server/sftp/digest.h"
#include "server/sftp/hash_budget.h"

namespace sftpgate::server::sftp {

class FileHasher : public std::enable_shared_from_this<FileHasher> {
 public:
  struct Request {
    std::string path;  // normalized, in the session's view
    v1::HashAlgorithm algorithm = v1::HASH_MD5;
    uint64_t offset = 0;
    uint64_t length = 0;      // 0: to end of file
    uint32_t block_size = 0;  // 0: one digest of the whole range
    // Most digests accepted (0: no limit); more is RESOURCE_EXHAUSTED
    // "too many blocks" (bounds memory and the reply's size).
    size_t max_blocks = 0;
  };
  // OK and the raw digests (one per block, or exactly one), or the error:
  // NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION "Is a directory" /
  // "not a regular file", RESOURCE_EXHAUSTED "hash limit reached for this
  // session" or "too many blocks", or whatever the backend reported.
  using Done = absl::AnyInvocable<void(const grpc::Status& status,
                                       std::vector<std::string> digests)>;

  // `caps`: the backend's Describe answer (its hash_algorithms decide
  // whether Hash is asked).
  static std::shared_ptr<FileHasher> Start(
      std::shared_ptr<backend::BackendClient> backend,
      const v1::DescribeResponse& caps, std::shared_ptr<HashBudget> budget,
      Request request, Done done);
  ~FileHasher();

  // Bytes this hasher read from the backend (0 when the backend's Hash
  // answered).
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  FileHasher(std::shared_ptr<backend::BackendClient> backend,
             std::vector<int> backend_algorithms,
             std::shared_ptr<HashBudget> budget, Request request, Done done);
  void Begin();
  void OnStat(const grpc::Status& status, const v1::Attributes& attrs);
  void AskBackend();
  void OnBackendHash(const grpc::Status& status, v1::HashResponse& response);
  void ReadAndHash();
  void OnChunk(backend::DataChunk chunk);
  void OnStreamEnd(const grpc::Status& status);
  void Finish(const grpc::Status& status);

  std::shared_ptr<backend::BackendClient> backend_;
  const std::vector<int> backend_algorithms_;  // v1::HashAlgorithm values
  std::shared_ptr<HashBudget> budget_;
  const Request request_;
  Done done_;

  std::shared_ptr<backend::IncomingStream<backend::DataChunk>> stream_;
  Digest digest_;
  std::vector<std::string> digests_;
  uint64_t next_offset_ = 0;  // file offset the next chunk must start at
  uint64_t in_block_ = 0;     // bytes hashed into the current block
  uint64_t bytes_read_ = 0;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_FILE_HASHER_H_
