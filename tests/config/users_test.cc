// Users file: good files and every malformed case, whose message must name
// the problem (file:line, user, field).

#include "server/config/users.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/password_hash.h"

namespace sftpgate::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// A real ed25519 public key (from ssh-keygen) and a real yescrypt hash.
constexpr char kKey[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAII7TwC+YK5izyUDe+FzMt7xwTLJhdbf82/Fv"
    "kSudltBZ alice@laptop";
constexpr char kHash[] =
    "$y$j9T$F5Jx5fExrKuJ5H5FcL2Rr.$1B0OyjOJC7Yyqo8dsNrNNfs8mLcUiJoo0jGgC4bGdA4";

std::string Message(const absl::StatusOr<UserDb>& db) {
  return std::string(db.status().message());
}

TEST(UsersTest, ParsesAGoodFile) {
  absl::StatusOr<UserDb> db = ParseUsers(
      absl::StrCat("[[user]]\nname = \"alice\"\npassword_hash = \"", kHash,
                   "\"\nauthorized_keys = [\"", kKey,
                   "\"]\nroot = \"/data//alice/./\"\nread_only = true\n\n"
                   "[[user]]\nname = \"bob\"\nauthorized-keys = [\"",
                   kKey, "\"]\n"),
      "users.toml");
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_EQ(db->users().size(), 2u);
  const UserRecord* alice = db->Find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->password_hash, kHash);
  ASSERT_EQ(alice->authorized_keys.size(), 1u);
  EXPECT_EQ(alice->authorized_keys[0].type, "ssh-ed25519");
  EXPECT_EQ(alice->authorized_keys[0].comment, "alice@laptop");
  EXPECT_NE(alice->authorized_keys[0].key, nullptr);
  EXPECT_EQ(alice->root, "/data/alice");
  EXPECT_TRUE(alice->read_only);
  const UserRecord* bob = db->Find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->root, "/");
  EXPECT_FALSE(bob->read_only);
  EXPECT_TRUE(bob->password_hash.empty());
  EXPECT_EQ(db->Find("carol"), nullptr);
}

TEST(UsersTest, ParsesQuotasAndRates) {
  absl::StatusOr<UserDb> db = ParseUsers(
      absl::StrCat("[[user]]\nname = \"alice\"\npassword_hash = \"", kHash,
                   "\"\nquota_bytes = 10737418240\nquota_files = 100000\n"
                   "upload_kib_per_second = 4096\n"),
      "users.toml");
  ASSERT_TRUE(db.ok()) << db.status();
  const UserRecord* alice = db->Find("alice");
  ASSERT_NE(alice, nullptr);
  EXPECT_EQ(alice->limits.quota_bytes, uint64_t{10737418240});
  EXPECT_EQ(alice->limits.quota_files, 100000u);
  EXPECT_TRUE(alice->limits.has_quota());
  EXPECT_EQ(alice->limits.upload_bytes_per_second, 4096u * 1024);
  EXPECT_EQ(alice->limits.download_bytes_per_second, 0u);
}

struct BadCase {
  const char* name;
  std::string toml;
  std::vector<std::string> expected;  // substrings of the message
};

class MalformedUsersTest : public testing::TestWithParam<BadCase> {};

TEST_P(MalformedUsersTest, FailsNamingTheProblem) {
  absl::StatusOr<UserDb> db = ParseUsers(GetParam().toml, "users.toml");
  ASSERT_FALSE(db.ok());
  for (const std::string& part : GetParam().expected) {
    EXPECT_THAT(Message(db), HasSubstr(part));
  }
}

std::string User(const std::string& body) {
  return absl::StrCat("[[user]]\n", body);
}
const std::string kGoodHashLine =
    absl::StrCat("password_hash = \"", kHash, "\"\n");

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedUsersTest,
    testing::Values(
        BadCase{"empty", "", {"users.toml: no users"}},
        BadCase{"syntax", "[[user]\nname=1", {"users.toml:1:"}},
        BadCase{"top_level_key",
                "users = 3\n",
                {"users.toml:1", "unknown key \"users\""}},
        BadCase{"user_as_table",
                "[user]\nname = \"a\"\n",
                {"must be written as [[user]] tables"}},
        BadCase{"no_name", User(kGoodHashLine), {"[[user]] #1", "has no name"}},
        BadCase{"name_not_string",
                User("name = 5\n" + kGoodHashLine),
                {"users.toml:2", "name must be a string, not an integer"}},
        BadCase{"name_with_space",
                User("name = \"a b\"\n" + kGoodHashLine),
                {"user \"a b\"", "space or control character"}},
        BadCase{"no_credential",
                User("name = \"alice\"\nroot = \"/x\"\n"),
                {"users.toml:1", "user \"alice\"", "has no credential"}},
        BadCase{"plaintext_password",
                User("name = \"alice\"\npassword_hash = \"hunter22\"\n"),
                {"users.toml:3", "user \"alice\"", "password_hash",
                 "plaintext passwords are not accepted"}},
        BadCase{"md5_hash",
                User("name = \"alice\"\npassword_hash = "
                     "\"$1$abcdefgh$0123456789abcdefghijkl\"\n"),
                {"user \"alice\"", "obsolete"}},
        BadCase{"placeholder_hash",
                User("name = \"alice\"\npassword_hash = \"$y$j9T$...\"\n"),
                {"user \"alice\"", "password_hash is a placeholder",
                 "sftpgate hash-password"}},
        BadCase{"placeholder_key",
                User("name = \"alice\"\nauthorized_keys = "
                     "[\"ssh-ed25519 AAAAC3Nza... alice@laptop\"]\n"),
                {"authorized_keys[0] is a placeholder",
                 "cat ~/.ssh/id_ed25519.pub"}},
        BadCase{"salt_only",
                User("name = \"alice\"\npassword_hash = \"$6$saltsalt$\"\n"),
                {"user \"alice\"", "password_hash"}},
        BadCase{
            "unknown_key",
            User("name = \"alice\"\n" + kGoodHashLine + "pasword = \"x\"\n"),
            {"users.toml:4", "user \"alice\"", "unknown key \"pasword\""}},
        BadCase{
            "keys_not_array",
            User("name = \"alice\"\nauthorized_keys = \"ssh-ed25519 AAAA\"\n"),
            {"user \"alice\"", "authorized_keys must be an array"}},
        BadCase{
            "key_unknown_type",
            User("name = \"alice\"\nauthorized_keys = [\"ssh-foo AAAA\"]\n"),
            {"user \"alice\"", "authorized_keys[0]", "unknown key type"}},
        BadCase{
            "key_bad_base64",
            User("name = \"alice\"\nauthorized_keys = [\"" + std::string(kKey) +
                 "\", \"ssh-ed25519 AAAAnotbase64\"]\n"),
            {"user \"alice\"", "authorized_keys[1]",
             "not a valid ssh-ed25519 public key"}},
        BadCase{"key_type_mismatch",
                User("name = \"alice\"\nauthorized_keys = [\"ssh-rsa " +
                     std::string(kKey).substr(12) + "\"]\n"),
                {"authorized_keys[0]"}},
        BadCase{"key_missing_base64",
                User("name = \"alice\"\nauthorized_keys = [\"ssh-ed25519\"]\n"),
                {"authorized_keys[0]", "TYPE BASE64"}},
        BadCase{
            "root_relative",
            User("name = \"alice\"\n" + kGoodHashLine + "root = \"data\"\n"),
            {"users.toml:4", "user \"alice\"", "root must be an absolute"}},
        BadCase{"root_dotdot",
                User("name = \"alice\"\n" + kGoodHashLine +
                     "root = \"/a/../..\"\n"),
                {"user \"alice\"", "root must not contain \"..\""}},
        BadCase{"read_only_string",
                User("name = \"alice\"\n" + kGoodHashLine +
                     "read_only = \"yes\"\n"),
                {"user \"alice\"", "read_only must be true or false"}},
        BadCase{
            "quota_negative",
            User("name = \"alice\"\n" + kGoodHashLine + "quota_bytes = -1\n"),
            {"users.toml:4", "user \"alice\"",
             "quota_bytes must be an integer from 0 to 2^52, not -1"}},
        BadCase{"quota_files_string",
                User("name = \"alice\"\n" + kGoodHashLine +
                     "quota_files = \"10\"\n"),
                {"user \"alice\"", "quota_files must be an integer"}},
        BadCase{"duplicate",
                User("name = \"alice\"\n" + kGoodHashLine) + "\n" +
                    User("name = \"alice\"\n" + kGoodHashLine),
                {"users.toml:5", "user \"alice\" is defined twice",
                 "first at users.toml:1"}}),
    [](const testing::TestParamInfo<BadCase>& info) {
      return std::string(info.param.name);
    });

TEST(UsersTest, ErrorsNeverEchoThePasswordValue) {
  absl::StatusOr<UserDb> db = ParseUsers(
      User("name = \"alice\"\npassword_hash = \"correct horse battery\"\n"),
      "users.toml");
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(Message(db), Not(HasSubstr("correct horse")));
}

TEST(UsersTest, MissingFileIsNamed) {
  absl::StatusOr<UserDb> db = LoadUsersFile("/nonexistent/users.toml");
  EXPECT_THAT(Message(db), HasSubstr("cannot read users file "
                                     "/nonexistent/users.toml"));
}

TEST(NormalizeRootTest, Normalizes) {
  EXPECT_EQ(*NormalizeRoot("/"), "/");
  EXPECT_EQ(*NormalizeRoot("//"), "/");
  EXPECT_EQ(*NormalizeRoot("/a/./b//c/"), "/a/b/c");
  EXPECT_EQ(*NormalizeRoot("/."), "/");
  EXPECT_FALSE(NormalizeRoot("").ok());
  EXPECT_FALSE(NormalizeRoot("a").ok());
  EXPECT_FALSE(NormalizeRoot("/a/..").ok());
  // Roots reach backends in UTF-8 strings: a Latin-1 one is refused here.
  EXPECT_EQ(NormalizeRoot("/srv/caf\xe9").status().message(), "must be UTF-8");
  EXPECT_EQ(*NormalizeRoot("/srv/caf\xc3\xa9"), "/srv/caf\xc3\xa9");
}

}  // namespace
}  // namespace sftpgate::server
