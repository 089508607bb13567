// Credentials lookup (environment, shared file and profile) and the XML
// the backend reads from the store.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <string>

#include "credentials.h"
#include "s3_xml.h"

namespace sftpgate::s3 {
namespace {

constexpr char kFile[] = R"ini(
# comment
[default]
aws_access_key_id = AKDEFAULT
aws_secret_access_key = secret-default

[profile other]
aws_access_key_id=AKOTHER
aws_secret_access_key=secret-other
aws_session_token = token-other

[broken]
aws_access_key_id = AKBROKEN
)ini";

TEST(SharedCredentials, ReadsTheNamedProfile) {
  absl::StatusOr<Credentials> c = ParseSharedCredentials(kFile, "default", "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKDEFAULT");
  EXPECT_EQ(c->secret_access_key, "secret-default");
  EXPECT_EQ(c->session_token, "");
  c = ParseSharedCredentials(kFile, "other", "f");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKOTHER");
  EXPECT_EQ(c->session_token, "token-other");
  EXPECT_EQ(c->source, "f [other]");
}

TEST(SharedCredentials, MissingOrIncompleteProfileFailsWithoutSecrets) {
  absl::StatusOr<Credentials> c = ParseSharedCredentials(kFile, "nope", "f");
  EXPECT_TRUE(absl::IsNotFound(c.status()));
  c = ParseSharedCredentials(kFile, "broken", "f");
  EXPECT_TRUE(absl::IsInvalidArgument(c.status()));
  EXPECT_EQ(c.status().message().find("AKBROKEN"), std::string::npos);
}

TEST(LoadCredentials, EnvironmentFirstThenFileAndProfile) {
  char path[] = "/tmp/s3-credentials-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  FILE* f = fdopen(fd, "w");
  std::fputs(kFile, f);
  std::fclose(f);
  setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "secret-env", 1);
  absl::StatusOr<Credentials> c = LoadCredentials("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(c->source, "environment");
  // An explicit profile reads the file, as `aws --profile` does.
  c = LoadCredentials("other");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKOTHER");
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  setenv("AWS_PROFILE", "other", 1);
  c = LoadCredentials("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKOTHER");
  unsetenv("AWS_PROFILE");
  c = LoadCredentials("");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->access_key_id, "AKDEFAULT");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);  // without its secret
  EXPECT_TRUE(absl::IsInvalidArgument(LoadCredentials("").status()));
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SHARED_CREDENTIALS_FILE");
  std::remove(path);
}

TEST(S3Xml, ListObjectsV2Page) {
  absl::StatusOr<ListPage> page = ParseListObjectsV2(R"(<?xml version="1.0"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>d/</Prefix><KeyCount>3</KeyCount>
  <IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>
  <Contents><Key>d/a&amp;b</Key><LastModified>2026-12-03T19:00:01.000Z</LastModified>
    <ETag>"x"</ETag><Size>42</Size></Contents>
  <CommonPrefixes><Prefix>d/sub/</Prefix></CommonPrefixes>
</ListBucketResult>)");
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, "d/a&b");
  EXPECT_EQ(page->objects[0].size, 42u);
  EXPECT_EQ(page->objects[0].last_modified, 1796324401);
  ASSERT_EQ(page->prefixes.size(), 1u);
  EXPECT_EQ(page->prefixes[0], "d/sub/");
  EXPECT_EQ(page->next_continuation_token, "tok");
}

TEST(S3Xml, ErrorsAndResults) {
  const char* error =
      "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>";
  EXPECT_EQ(ParseErrorBody(error).code, "NoSuchBucket");
  EXPECT_TRUE(IsErrorDocument(error));
  EXPECT_TRUE(
      absl::IsFailedPrecondition(ParseResultField(error, "ETag").status()));
  absl::StatusOr<std::string> id = ParseResultField(
      "<InitiateMultipartUploadResult><Bucket>b</Bucket><UploadId>u-1</"
      "UploadId>"
      "</InitiateMultipartUploadResult>",
      "UploadId");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "u-1");
  EXPECT_FALSE(ParseListObjectsV2("not xml").ok());
  EXPECT_EQ(CompleteMultipartXml({"\"e1\"", "\"e2\""}),
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"
            "\"e1\"</ETag></Part><Part><PartNumber>2</PartNumber>"
            "<ETag>\"e2\"</ETag></Part></CompleteMultipartUpload>");
}

}  // namespace
}  // namespace sftpgate::s3
