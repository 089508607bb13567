// Digest: the message digests sftpgate computes itself (check-file
// extensions, md5sum/sha1sum/sha256sum over exec, the per-block hashes of
// check-file), on OpenSSL's EVP interface.
//
// Thread safety: a Digest is not thread-safe; the free functions are.

#ifndef SFTPGATE_SERVER_SFTP_DIGEST_H_
#define SFTPGATE_SERVER_SFTP_DIGEST_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::sftp {

// The algorithm named `name` as the check-file draft and coreutils spell
// it ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"), or nullopt.
std::optional<v1::HashAlgorithm> HashAlgorithmByName(absl::string_view name);
// The inverse of HashAlgorithmByName ("" for HASH_ALGORITHM_UNSPECIFIED).
absl::string_view HashAlgorithmName(v1::HashAlgorithm algorithm);
// Bytes of one digest of `algorithm` (16 for md5, 20 for sha1, ...).
size_t DigestSize(v1::HashAlgorithm algorithm);
// Lower-case hexadecimal of raw digest bytes, as coreutils prints them.
std::string HexDigest(absl::string_view raw);

class Digest {
 public:
  // `algorithm` must be one HashAlgorithmByName returns.
  explicit Digest(v1::HashAlgorithm algorithm);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void Update(absl::string_view data);
  // The raw digest of everything updated since construction or the last
  // Finish(); starts over afterwards.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_SFTP_DIGEST_H_
