// Hash (optional), for every algorithm Describe.hash_algorithms lists.
// UNIMPLEMENTED is always an acceptable answer (the front end then reads
// and hashes the file itself); a digest that does come back must be that of
// the bytes Read returns at the time of the call: after the file is
// replaced, truncated or extended too, which is where a backend that
// stores digests at upload goes wrong (hash.follows_the_contents).
// hash.ranges_and_blocks holds ranges and per-block digests to the same
// rule; hash.errors the usual NOT_FOUND and FAILED_PRECONDITION.

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;
using Digests = std::vector<std::string>;

const EVP_MD* DigestOf(int algorithm) {
  switch (algorithm) {
    case v1::HASH_MD5:
      return EVP_md5();
    case v1::HASH_SHA1:
      return EVP_sha1();
    case v1::HASH_SHA224:
      return EVP_sha224();
    case v1::HASH_SHA256:
      return EVP_sha256();
    case v1::HASH_SHA384:
      return EVP_sha384();
    case v1::HASH_SHA512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

std::string Digest(const EVP_MD* md, absl::string_view data) {
  std::string digest(EVP_MD_size(md), '\0');
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(),
             reinterpret_cast<unsigned char*>(digest.data()), &size, md,
             nullptr);
  return digest;
}

// What Hash must answer for `data` (the file's bytes) and the request's
// range and block size, by the contract's rules.
Digests Expected(const EVP_MD* md, absl::string_view data, uint64_t offset,
                 uint64_t length, uint32_t block_size) {
  absl::string_view range =
      offset >= data.size() ? absl::string_view() : data.substr(offset);
  if (length > 0 && length < range.size()) range = range.substr(0, length);
  if (block_size == 0) return {Digest(md, range)};
  Digests digests;
  for (size_t at = 0; at < range.size(); at += block_size) {
    digests.push_back(Digest(md, range.substr(at, block_size)));
  }
  return digests;
}

// The backend's algorithms, each known to the suite.
absl::StatusOr<std::vector<v1::HashAlgorithm>> Algorithms(const Fixture& f) {
  std::vector<v1::HashAlgorithm> algorithms;
  for (int a : f.describe().hash_algorithms()) {
    if (DigestOf(a) == nullptr) {
      return Fail(absl::StrCat("Describe lists hash algorithm ", a,
                               ", which the contract does not define"));
    }
    algorithms.push_back(static_cast<v1::HashAlgorithm>(a));
  }
  return algorithms;
}

// Hash(path, algorithm, range) answers UNIMPLEMENTED or `data`'s digests.
absl::Status ExpectHashOf(const Fixture& f, absl::string_view path,
                          v1::HashAlgorithm algorithm, absl::string_view data,
                          uint64_t offset = 0, uint64_t length = 0,
                          uint32_t block_size = 0) {
  const Reply<Digests> reply =
      f.root().Hash(path, algorithm, offset, length, block_size);
  if (reply.status().code() == StatusCode::kUnimplemented) {
    return absl::OkStatus();
  }
  CONF_RETURN_IF_ERROR(ExpectOk(reply));
  const Digests want =
      Expected(DigestOf(algorithm), data, offset, length, block_size);
  CONF_RETURN_IF_ERROR(
      ExpectEq(absl::StrCat("the number of digests from ", reply.call()),
               want.size(), reply.value().size()));
  for (size_t i = 0; i < want.size(); ++i) {
    if (reply.value()[i] != want[i]) {
      return Fail(
          absl::StrCat("expected digest ", i, " from ", reply.call(),
                       " to be that of the bytes Read returns, got another"));
    }
  }
  return absl::OkStatus();
}

absl::Status FollowsTheContents(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const auto algorithms, Algorithms(f));
  const Client& c = f.root();
  const std::string path = f.Path("file");
  const std::string first = PatternBytes(300000, 21);
  const std::string second = PatternBytes(70000, 22);
  std::string truncated = second.substr(0, 1000);
  std::string extended = truncated + std::string(4000, '\0');
  // Each algorithm is asked once per state, so that a digest kept from one
  // state cannot pass for the next.
  const auto expect_all = [&](absl::string_view data) -> absl::Status {
    for (v1::HashAlgorithm a : algorithms) {
      CONF_RETURN_IF_ERROR(ExpectHashOf(f, path, a, data));
    }
    return absl::OkStatus();
  };
  CONF_RETURN_IF_ERROR(f.WriteFile(c, path, first));
  CONF_RETURN_IF_ERROR(expect_all(first));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, path, second));  // replaced
  CONF_RETURN_IF_ERROR(expect_all(second));
  v1::Attributes size;
  size.set_size(truncated.size());
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(path, size, true)));
  CONF_RETURN_IF_ERROR(expect_all(truncated));
  size.set_size(extended.size());
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(path, size, true)));
  CONF_RETURN_IF_ERROR(expect_all(extended));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, path, ""));
  return expect_all("");
}

absl::Status RangesAndBlocks(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const auto algorithms, Algorithms(f));
  const std::string path = f.Path("file");
  const std::string data = PatternBytes(200000, 23);
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, data));
  struct Range {
    uint64_t offset, length;
    uint32_t block_size;
  };
  const Range ranges[] = {
      {1000, 50000, 0},     // inside the file
      {150000, 100000, 0},  // cut at end of file
      {250000, 0, 0},       // past the end: the digest of no bytes
      {0, 0, 65536},        // blocks, the last one shorter
      {5, 1000, 256},       // blocks of a range
  };
  for (v1::HashAlgorithm a : algorithms) {
    for (const Range& r : ranges) {
      CONF_RETURN_IF_ERROR(
          ExpectHashOf(f, path, a, data, r.offset, r.length, r.block_size));
    }
  }
  return absl::OkStatus();
}

absl::Status Errors(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const auto algorithms, Algorithms(f));
  for (v1::HashAlgorithm a : algorithms) {
    CONF_RETURN_IF_ERROR(ExpectCode(
        f.root().Hash(f.Path("missing"), a, 0, 0, 0), StatusCode::kNotFound));
    CONF_RETURN_IF_ERROR(ExpectCode(f.root().Hash(f.dir(), a, 0, 0, 0),
                                    StatusCode::kFailedPrecondition));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterHashChecks(Registry& registry) {
  const Requirement lists_algorithms = {[](const v1::DescribeResponse& d) {
                                          return d.hash_algorithms_size() > 0;
                                        },
                                        "no hash_algorithms listed"};
  registry.Add("hash.follows_the_contents", {lists_algorithms},
               FollowsTheContents);
  registry.Add("hash.ranges_and_blocks", {lists_algorithms}, RangesAndBlocks);
  registry.Add("hash.errors", {lists_algorithms}, Errors);
}

}  // namespace sftpgate::conformance
