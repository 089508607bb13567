// Password hashes and the authenticator built on them.

#include <libssh/libssh.h>
#include <time.h>

#include <algorithm>
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/auth/user_auth.h"
#include "server/config/password_hash.h"
#include "server/config/users.h"

namespace sftpgate::server {
namespace {

TEST(PasswordHashTest, RoundTrip) {
  absl::StatusOr<std::string> hash = HashPassword("s3cret pass");
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_TRUE(hash->rfind("$y$", 0) == 0 || hash->rfind("$6$", 0) == 0)
      << *hash;
  EXPECT_TRUE(CheckCryptHashFormat(*hash).ok());
  EXPECT_TRUE(VerifyPassword("s3cret pass", *hash));
  EXPECT_FALSE(VerifyPassword("s3cret pass ", *hash));
  EXPECT_FALSE(VerifyPassword("", *hash));
  EXPECT_FALSE(VerifyPassword(std::string("s3cret pass\0x", 13), *hash));
}

// '.' is one of crypt's 64 characters: real salts and digests hold "..."
// now and then, and only a field of dots is the docs' placeholder.
TEST(PasswordHashTest, DotsInARealHashAreNotAPlaceholder) {
  const std::string digest(86, 'A');
  EXPECT_TRUE(CheckCryptHashFormat("$6$ab...cdefghijklm$" + digest).ok());
  EXPECT_TRUE(CheckCryptHashFormat("$6$abcdefghijklmnop$..." + digest).ok());
  EXPECT_TRUE(
      CheckCryptHashFormat("$y$j9T$abcd...efgh$" + digest.substr(43)).ok());
  for (const char* placeholder :
       {"$y$j9T$...", "$y$j9T$...$", "$6$...$AAAAAAAAAAAAAAAAAAAAAA",
        "$y$j9T$abcdefghijklmnopqrstuv$...."}) {
    const absl::Status status = CheckCryptHashFormat(placeholder);
    EXPECT_FALSE(status.ok()) << placeholder;
    EXPECT_TRUE(absl::StrContains(status.message(), "placeholder"))
        << placeholder << ": " << status.message();
  }
}

TEST(PasswordHashTest, SaltsDiffer) {
  EXPECT_NE(*HashPassword("same"), *HashPassword("same"));
}

TEST(PasswordHashTest, RejectsNul) {
  EXPECT_FALSE(HashPassword(std::string("a\0b", 3)).ok());
}

TEST(PasswordHashTest, VerifyAgainstGarbageIsFalse) {
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_FALSE(VerifyPassword("x", "plaintext"));
  EXPECT_FALSE(VerifyPassword("x", "$6$"));
}

class UserAuthenticatorTest : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &alice_key_), SSH_OK);
    ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &other_key_), SSH_OK);
    char* b64 = nullptr;
    ASSERT_EQ(ssh_pki_export_pubkey_base64(alice_key_, &b64), SSH_OK);
    std::string toml = "[[user]]\nname = \"alice\"\npassword_hash = \"" +
                       *HashPassword("alice-pw") +
                       "\"\nauthorized_keys = [\"ssh-ed25519 " + b64 +
                       "\"]\n[[user]]\nname = \"keyonly\"\n"
                       "authorized_keys = [\"ssh-ed25519 " +
                       b64 + "\"]\n";
    ssh_string_free_char(b64);
    absl::StatusOr<UserDb> db = ParseUsers(toml, "test");
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  void TearDown() override {
    ssh_key_free(alice_key_);
    ssh_key_free(other_key_);
  }
  UserDb db_;
  ssh_key alice_key_ = nullptr;
  ssh_key other_key_ = nullptr;
};

TEST_F(UserAuthenticatorTest, Password) {
  UserAuthenticator auth(&db_);
  const UserRecord* user = auth.CheckPassword("alice", "alice-pw");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->name, "alice");
  EXPECT_EQ(auth.CheckPassword("alice", "wrong"), nullptr);
  EXPECT_EQ(auth.CheckPassword("nobody", "alice-pw"), nullptr);
  // A user without a password cannot log in with any password.
  EXPECT_EQ(auth.CheckPassword("keyonly", ""), nullptr);
  EXPECT_EQ(auth.CheckPassword("keyonly", "alice-pw"), nullptr);
}

// The operator's log tells the three failures apart.
TEST_F(UserAuthenticatorTest, ReasonsTellFailuresApart) {
  UserAuthenticator auth(&db_);
  std::string reason;
  EXPECT_EQ(auth.CheckPassword("alice", "wrong", &reason), nullptr);
  EXPECT_EQ(reason, "wrong password");
  EXPECT_EQ(auth.CheckPassword("nobody", "alice-pw", &reason), nullptr);
  EXPECT_EQ(reason, "unknown user");
  EXPECT_EQ(auth.CheckPassword("keyonly", "alice-pw", &reason), nullptr);
  EXPECT_EQ(reason, "no password set for the user");
  EXPECT_EQ(auth.CheckPublicKey("alice", other_key_, &reason), nullptr);
  EXPECT_EQ(reason, "key not in the user's authorized_keys");
  EXPECT_EQ(auth.CheckPublicKey("nobody", alice_key_, &reason), nullptr);
  EXPECT_EQ(reason, "unknown user");
}

TEST_F(UserAuthenticatorTest, PublicKey) {
  UserAuthenticator auth(&db_);
  EXPECT_NE(auth.CheckPublicKey("alice", alice_key_), nullptr);
  EXPECT_NE(auth.CheckPublicKey("keyonly", alice_key_), nullptr);
  EXPECT_EQ(auth.CheckPublicKey("alice", other_key_), nullptr);
  EXPECT_EQ(auth.CheckPublicKey("nobody", alice_key_), nullptr);
  EXPECT_EQ(auth.CheckPublicKey("alice", nullptr), nullptr);
}

TEST(CryptMethodAndCostTest, DropsSaltAndDigest) {
  EXPECT_EQ(CryptMethodAndCost("$y$j9T$saltsalt$digestdigest"), "$y$j9T$");
  EXPECT_EQ(CryptMethodAndCost("$6$rounds=9000$salt$digest"),
            "$6$rounds=9000$");
  EXPECT_EQ(CryptMethodAndCost("$6$salt$digest"), "$6$");
  EXPECT_EQ(CryptMethodAndCost(
                "$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz12345"),
            "$2b$12$");
}

// CPU seconds this thread has used. The hashes run on the calling thread,
// so their cost is measured without the time other processes of a loaded
// machine take from it (wall time made this test fail beside a busy build).
double ThreadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;
}

// CPU seconds the cheapest of `runs` calls of `check` took.
template <typename Check>
double FastestSeconds(int runs, Check check) {
  double best = 1e9;
  for (int i = 0; i < runs; ++i) {
    const double start = ThreadCpuSeconds();
    check();
    best = std::min(best, ThreadCpuSeconds() - start);
  }
  return best;
}

// A users file whose first user has a cheap hash and the others a costly
// one: an unknown name must cost what the common (costly) check costs, or
// timing tells which names exist.
TEST(UserAuthenticatorTimingTest, UnknownUsersCostWhatMostUsersCost) {
  std::string cheap = DummyHashLike("$5$rounds=1000$cheapsalt$x");
  std::string costly = DummyHashLike("$6$rounds=150000$costlysalt$x");
  ASSERT_FALSE(cheap.empty());
  ASSERT_FALSE(costly.empty());
  std::string toml =
      "[[user]]\nname = \"first\"\npassword_hash = \"" + cheap + "\"\n";
  for (const char* name : {"bob", "carol"}) {
    toml += std::string("[[user]]\nname = \"") + name +
            "\"\npassword_hash = \"" + costly + "\"\n";
  }
  absl::StatusOr<UserDb> db = ParseUsers(toml, "test");
  ASSERT_TRUE(db.ok()) << db.status();
  UserAuthenticator auth(&*db);
  double known = FastestSeconds(3, [&] { auth.CheckPassword("bob", "x"); });
  double unknown =
      FastestSeconds(3, [&] { auth.CheckPassword("nobody", "x"); });
  double cheap_user =
      FastestSeconds(3, [&] { auth.CheckPassword("first", "x"); });
  // SHA-512 with 150000 rounds costs ~100x SHA-256 with 1000.
  ASSERT_GT(known, 10 * cheap_user);
  EXPECT_GT(unknown, known / 2)
      << "unknown " << unknown << " s, known " << known << " s";
}

}  // namespace
}  // namespace sftpgate::server
