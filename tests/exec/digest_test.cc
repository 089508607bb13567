#include "server/sftp/digest.h"

#include "gtest/gtest.h"

namespace sftpgate::server::sftp {
namespace {

std::string Hex(v1::HashAlgorithm algorithm, absl::string_view data) {
  Digest d(algorithm);
  d.Update(data);
  return HexDigest(d.Finish());
}

TEST(DigestTest, KnownAnswers) {
  EXPECT_EQ(Hex(v1::HASH_MD5, ""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(v1::HASH_SHA1, ""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Hex(v1::HASH_SHA256, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(v1::HASH_SHA512, "abc").substr(0, 16), "ddaf35a193617aba");
}

TEST(DigestTest, FinishStartsOverAndUpdatesConcatenate) {
  Digest d(v1::HASH_MD5);
  d.Update("ab");
  d.Update("c");
  EXPECT_EQ(HexDigest(d.Finish()), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(HexDigest(d.Finish()), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, Names) {
  EXPECT_EQ(HashAlgorithmByName("sha256"), v1::HASH_SHA256);
  EXPECT_EQ(HashAlgorithmByName("crc32"), std::nullopt);
  EXPECT_EQ(HashAlgorithmName(v1::HASH_SHA384), "sha384");
  EXPECT_EQ(DigestSize(v1::HASH_SHA1), 20u);
  EXPECT_EQ(DigestSize(v1::HASH_SHA512), 64u);
}

}  // namespace
}  // namespace sftpgate::server::sftp
