// The SigV4 signer against AWS's published vectors: the generic Signature
// Version 4 test suite (credentials AKIDEXAMPLE, 2015-08-30, service
// "service") and the worked S3 examples of the S3 API reference
// ("Signature Calculations for the Authorization Header": GET Object, PUT
// Object, GET Bucket Lifecycle, GET Bucket / list objects). The expected
// signatures are copied from those documents, not computed here.

#include "sigv4.h"

#include <gtest/gtest.h>

#include <string>

namespace sftpgate::s3 {
namespace {

const SigningKeyId kSuiteKey{"AKIDEXAMPLE",
                             "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const SigningKeyId kS3Key{"AKIAIOSFODNN7EXAMPLE",
                          "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};

SignatureInput Suite(const std::string& method, const std::string& uri) {
  SignatureInput input;
  input.method = method;
  input.canonical_uri = uri;
  input.headers = {{"Host", "example.amazonaws.com"},
                   {"X-Amz-Date", "20150830T123600Z"}};
  input.payload_sha256 = std::string(kEmptySha256);
  input.region = "us-east-1";
  input.service = "service";
  return input;
}

std::string SuiteAuth(const std::string& signed_headers,
                      const std::string& signature) {
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
         "service/aws4_request, SignedHeaders=" +
         signed_headers + ", Signature=" + signature;
}

SignatureInput S3Example(const std::string& method, const std::string& uri) {
  SignatureInput input;
  input.method = method;
  input.canonical_uri = uri;
  input.headers = {{"host", "examplebucket.s3.amazonaws.com"},
                   {"x-amz-date", "20130524T000000Z"},
                   {"x-amz-content-sha256", std::string(kEmptySha256)}};
  input.payload_sha256 = std::string(kEmptySha256);
  input.region = "us-east-1";
  input.service = "s3";
  return input;
}

std::string SignatureOf(const std::string& authorization) {
  return authorization.substr(authorization.rfind('=') + 1);
}

TEST(SigV4Suite, GetVanilla) {
  EXPECT_EQ(AuthorizationHeader(Suite("GET", "/"), kSuiteKey),
            SuiteAuth("host;x-amz-date",
                      "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d"
                      "763fbf31"));
}

TEST(SigV4Suite, PostVanilla) {
  EXPECT_EQ(AuthorizationHeader(Suite("POST", "/"), kSuiteKey),
            SuiteAuth("host;x-amz-date",
                      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92"
                      "efbe5d6b"));
}

TEST(SigV4Suite, GetVanillaQueryOrderKeyCase) {
  SignatureInput input = Suite("GET", "/");
  input.canonical_query =
      CanonicalQuery({{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(input.canonical_query, "Param1=value1&Param2=value2");
  EXPECT_EQ(AuthorizationHeader(input, kSuiteKey),
            SuiteAuth("host;x-amz-date",
                      "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec9"
                      "4cdf2500"));
}

TEST(SigV4Suite, GetUnreserved) {
  const std::string path =
      "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  EXPECT_EQ(UriEncode(path, /*keep_slash=*/true), path);
  EXPECT_EQ(AuthorizationHeader(Suite("GET", path), kSuiteKey),
            SuiteAuth("host;x-amz-date",
                      "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65"
                      "bbf5f24f"));
}

TEST(SigV4Suite, PostHeaderValueCase) {
  SignatureInput input = Suite("POST", "/");
  input.headers["My-Header1"] = "VALUE1";
  EXPECT_EQ(AuthorizationHeader(input, kSuiteKey),
            SuiteAuth("host;my-header1;x-amz-date",
                      "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa5"
                      "8b974b7d"));
}

TEST(SigV4Suite, GetHeaderValueTrim) {
  SignatureInput input = Suite("GET", "/");
  input.headers["My-Header1"] = " value1";
  input.headers["My-Header2"] = "\"a   b   c\"";
  EXPECT_EQ(AuthorizationHeader(input, kSuiteKey),
            SuiteAuth("host;my-header1;my-header2;x-amz-date",
                      "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee3597"
                      "57a9c736"));
}

TEST(SigV4S3Examples, GetObjectRange) {
  SignatureInput input = S3Example("GET", "/test.txt");
  input.headers["range"] = "bytes=0-9";
  const std::string authorization = AuthorizationHeader(input, kS3Key);
  EXPECT_EQ(authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
            "us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6"
            "036bdb41");
}

TEST(SigV4S3Examples, PutObject) {
  const std::string body = "Welcome to Amazon S3.";
  EXPECT_EQ(Sha256Hex(body),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SignatureInput input =
      S3Example("PUT", UriEncode("/test$file.text", /*keep_slash=*/true));
  EXPECT_EQ(input.canonical_uri, "/test%24file.text");
  input.payload_sha256 = Sha256Hex(body);
  input.headers["x-amz-content-sha256"] = input.payload_sha256;
  input.headers["date"] = "Fri, 24 May 2013 00:00:00 GMT";
  input.headers["x-amz-storage-class"] = "REDUCED_REDUNDANCY";
  EXPECT_EQ(SignatureOf(AuthorizationHeader(input, kS3Key)),
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4S3Examples, GetBucketLifecycle) {
  SignatureInput input = S3Example("GET", "/");
  input.canonical_query = CanonicalQuery({{"lifecycle", ""}});
  EXPECT_EQ(input.canonical_query, "lifecycle=");
  EXPECT_EQ(SignatureOf(AuthorizationHeader(input, kS3Key)),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4S3Examples, ListObjects) {
  SignatureInput input = S3Example("GET", "/");
  input.canonical_query = CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}});
  EXPECT_EQ(input.canonical_query, "max-keys=2&prefix=J");
  EXPECT_EQ(SignatureOf(AuthorizationHeader(input, kS3Key)),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(UriEncode, EncodesReservedAndUtf8) {
  EXPECT_EQ(UriEncode("a b/c+d=e", false), "a%20b%2Fc%2Bd%3De");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
}

TEST(CanonicalQuery, SortsByEncodedNameThenValue) {
  EXPECT_EQ(
      CanonicalQuery({{"b", "2"}, {"a", "x y"}, {"a", "1"}, {"uploads", ""}}),
      "a=1&a=x%20y&b=2&uploads=");
}

}  // namespace
}  // namespace sftpgate::s3
