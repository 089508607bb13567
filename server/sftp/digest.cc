#include "server/sftp/digest.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace sftpgate::server::sftp {
namespace {

struct Algorithm {
  v1::HashAlgorithm id;
  absl::string_view name;
  const EVP_MD* (*md)();
};

constexpr Algorithm kAlgorithms[] = {
    {v1::HASH_MD5, "md5", &EVP_md5},
    {v1::HASH_SHA1, "sha1", &EVP_sha1},
    {v1::HASH_SHA224, "sha224", &EVP_sha224},
    {v1::HASH_SHA256, "sha256", &EVP_sha256},
    {v1::HASH_SHA384, "sha384", &EVP_sha384},
    {v1::HASH_SHA512, "sha512", &EVP_sha512},
};

const Algorithm* Find(v1::HashAlgorithm id) {
  for (const Algorithm& a : kAlgorithms) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

}  // namespace

std::optional<v1::HashAlgorithm> HashAlgorithmByName(absl::string_view name) {
  for (const Algorithm& a : kAlgorithms) {
    if (a.name == name) return a.id;
  }
  return std::nullopt;
}

absl::string_view HashAlgorithmName(v1::HashAlgorithm algorithm) {
  const Algorithm* a = Find(algorithm);
  return a != nullptr ? a->name : "";
}

size_t DigestSize(v1::HashAlgorithm algorithm) {
  const Algorithm* a = Find(algorithm);
  return a != nullptr ? EVP_MD_get_size(a->md()) : 0;
}

std::string HexDigest(absl::string_view raw) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

struct Digest::Ctx {
  const EVP_MD* md;
  EVP_MD_CTX* ctx;
};

Digest::Digest(v1::HashAlgorithm algorithm) : ctx_(std::make_unique<Ctx>()) {
  const Algorithm* a = Find(algorithm);
  // Callers map names with HashAlgorithmByName first: anything else is a
  // programming error, not input.
  if (a == nullptr) std::abort();
  ctx_->md = a->md();
  ctx_->ctx = EVP_MD_CTX_new();
  if (ctx_->ctx == nullptr ||
      EVP_DigestInit_ex(ctx_->ctx, ctx_->md, nullptr) != 1) {
    std::abort();  // out of memory
  }
}

Digest::~Digest() { EVP_MD_CTX_free(ctx_->ctx); }

void Digest::Update(absl::string_view data) {
  EVP_DigestUpdate(ctx_->ctx, data.data(), data.size());
}

std::string Digest::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx_->ctx, out, &n);
  EVP_DigestInit_ex(ctx_->ctx, ctx_->md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace sftpgate::server::sftp
