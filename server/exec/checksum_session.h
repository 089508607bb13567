// ChecksumSession: md5sum, sha1sum and sha256sum over exec, printing
// exactly what GNU coreutils prints (coreutils_format.h): one line per
// operand in order, "-" (or no operand) hashing the channel's input, a
// diagnostic on stderr for an operand that cannot be hashed (missing,
// directory, refused) and exit status 1 if any failed. Files are hashed
// by FileHasher (the backend's stored digest when it has one, else a read
// charged to the connection's hash budget).
//
// Thread safety: loop thread only.

#ifndef SFTPGATE_SERVER_EXEC_CHECKSUM_SESSION_H_
#define SFTPGATE_SERVER_EXEC_CHECKSUM_SESSION_H_

#include <cstddef>
#include <memory>

#include "server/exec/exec_command.h"
#include "server/exec/exec_session.h"
#include "server/sftp/digest.h"
#include "server/sftp/file_hasher.h"

namespace sftpgate::server::exec {

class ChecksumSession final : public ExecSession {
 public:
  ChecksumSession(ChecksumCommand command, SftpSessionOptions options);

 protected:
  void Run() override;
  size_t OnInput(absl::string_view data) override;
  void OnEndOfInput() override;
  void OnShutdown() override;
  // Hashing a file; waiting for the client's input ("-") is idle.
  bool Busy() const override;

 private:
  // Hashes operand next_ (or exits after the last).
  void Next();
  void OnHashed(const std::string& name, const grpc::Status& status,
                std::vector<std::string> digests, uint64_t bytes_read,
                std::chrono::steady_clock::time_point start);

  const ChecksumCommand command_;
  size_t next_ = 0;
  bool failed_ = false;
  // Hashing the channel's input for a "-" operand.
  bool reading_input_ = false;
  bool input_ended_ = false;
  sftp::Digest input_digest_;
  std::shared_ptr<sftp::FileHasher> hasher_;
};

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_CHECKSUM_SESSION_H_
