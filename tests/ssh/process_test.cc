// Process-level tests of the sftpgate binary: command line and config
// errors, host key generation, hash-password, and the SSH layer driven by a
// real SSH client library (libssh's client side): password, public key and
// keyboard-interactive auth, limits, refused requests, shutdown.
//
// The SFTP conversation itself is covered by tests/e2e with real clients.

#include <libssh/libssh.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/config/password_hash.h"
#include "sftpgate_fixture.h"
#include "subprocess.h"

namespace sftpgate {
namespace {

using ::sftpgate::testing_util::Background;
using ::sftpgate::testing_util::kPassword;
using ::sftpgate::testing_util::RunProcess;
using ::sftpgate::testing_util::RunResult;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBinary[] = SFTPGATE_BINARY;

class SftpgateProcessTest : public testing_util::SftpgateFixture {};

// ---------------------------------------------------------------------------
// Command line and configuration errors.

TEST_F(SftpgateProcessTest, UnknownFlagFailsNamingIt) {
  RunResult r = RunProcess({kBinary, "--no-such-flag=1"}, "");
  EXPECT_EQ(r.exit_code, 2);  // a usage error, as documented
  EXPECT_THAT(r.err, HasSubstr("unknown flag --no-such-flag"));
  EXPECT_THAT(r.err, HasSubstr("sftpgate --help"));
}

TEST_F(SftpgateProcessTest, BadFlagValueFails) {
  std::vector<std::string> args = BaseArgs();
  args.push_back("--max-sessions=many");
  RunResult r = RunProcess(args, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad value \"many\" for --max-sessions"));
}

TEST_F(SftpgateProcessTest, MissingRequiredSettingIsNamed) {
  RunResult r = RunProcess({kBinary, "--listen=127.0.0.1:0"}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--backend is required"));
}

TEST_F(SftpgateProcessTest, InvalidSettingIsNamed) {
  std::vector<std::string> args = BaseArgs();
  args.push_back("--log-format=xml");
  RunResult r = RunProcess(args, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("log_format must be text or json"));
}

TEST_F(SftpgateProcessTest, PositionalArgumentIsRefused) {
  std::vector<std::string> args = BaseArgs();
  args.push_back("extra");
  RunResult r = RunProcess(args, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unexpected argument \"extra\""));
}

TEST_F(SftpgateProcessTest, MalformedUsersFileNamesFileLineAndUser) {
  WriteFile("users.toml",
            "[[user]]\nname = \"bob\"\npassword_hash = \"plaintext!\"\n");
  RunResult r = RunProcess(BaseArgs(), "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(Path("users.toml") + ":3: user \"bob\": "
                                                    "password_hash"));
  EXPECT_THAT(r.err, Not(HasSubstr("plaintext!")));
}

TEST_F(SftpgateProcessTest, UnreadableUsersFileIsNamed) {
  std::vector<std::string> args = BaseArgs();
  args.push_back("--users=" + Path("missing.toml"));
  RunResult r = RunProcess(args, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err,
              HasSubstr("cannot read users file " + Path("missing.toml")));
}

TEST_F(SftpgateProcessTest, MalformedConfigFileIsNamed) {
  WriteFile("sftpgate.toml", "backend = \"127.0.0.1:1\"\nlisten_addr = 1\n");
  RunResult r = RunProcess({kBinary, "--config", Path("sftpgate.toml")}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(Path("sftpgate.toml") +
                               ":2: unknown setting \"listen_addr\""));
}

TEST_F(SftpgateProcessTest, HostKeyReadableByOthersIsRefused) {
  WriteFile("host_key", "not a key");
  chmod(Path("host_key").c_str(), 0644);
  RunResult r = RunProcess(BaseArgs(), "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("chmod 600"));
}

TEST_F(SftpgateProcessTest, PublicKeyAsHostKeyIsNamed) {
  WriteFile("host_key.pub",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9"
            "okWi0dh2l9GKJl alice@laptop\n");
  chmod(Path("host_key.pub").c_str(), 0644);
  std::vector<std::string> args = BaseArgs();
  args.push_back("--host-key=" + Path("host_key.pub"));
  RunResult r = RunProcess(args, "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("holds a public key"));
  EXPECT_THAT(r.err, Not(HasSubstr("chmod")));
}

TEST_F(SftpgateProcessTest, GarbageHostKeyIsRefused) {
  WriteFile("host_key", "not a key");
  chmod(Path("host_key").c_str(), 0600);
  RunResult r = RunProcess(BaseArgs(), "");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("is not an unencrypted private key"));
}

// ---------------------------------------------------------------------------
// hash-password.

TEST_F(SftpgateProcessTest, HashPasswordRoundTrip) {
  RunResult r = RunProcess({kBinary, "hash-password"}, "my secret\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  ASSERT_EQ(r.out.back(), '\n');
  std::string hash = r.out.substr(0, r.out.size() - 1);
  EXPECT_TRUE(server::CheckCryptHashFormat(hash).ok()) << hash;
  EXPECT_TRUE(server::VerifyPassword("my secret", hash));
  EXPECT_FALSE(server::VerifyPassword("my secret\n", hash));
  EXPECT_THAT(r.out + r.err, Not(HasSubstr("my secret")));
}

TEST_F(SftpgateProcessTest, HashPasswordWithoutInputFails) {
  RunResult r = RunProcess({kBinary, "hash-password"}, "");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no password"));
}

// ---------------------------------------------------------------------------
// Startup, host key, config file, shutdown.

TEST_F(SftpgateProcessTest, GeneratesMissingHostKeyWithMode0600) {
  ASSERT_NE(StartServer(), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("host_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ssh_key key = nullptr;
  ASSERT_EQ(ssh_pki_import_privkey_file(Path("host_key").c_str(), nullptr,
                                        nullptr, nullptr, &key),
            SSH_OK);
  EXPECT_EQ(ssh_key_type(key), SSH_KEYTYPE_ED25519);
  ssh_key_free(key);
  std::string first_log = server_->Stderr();
  EXPECT_THAT(first_log, HasSubstr("host_key_generated"));
  EXPECT_EQ(server_->Stop(SIGTERM), 0);

  // A restart reuses the key: same fingerprint, nothing generated.
  ASSERT_NE(StartServer(), 0);
  std::string second_log = server_->Stderr();
  EXPECT_THAT(second_log, Not(HasSubstr("host_key_generated")));
  size_t at = first_log.find("fingerprint=");
  ASSERT_NE(at, std::string::npos);
  std::string fingerprint = first_log.substr(at, first_log.find('\n', at) - at);
  EXPECT_THAT(second_log, HasSubstr(fingerprint));
  EXPECT_EQ(server_->Stop(SIGINT), 0);
}

TEST_F(SftpgateProcessTest, CreatesTheHostKeysMissingFoldersPrivate) {
  ASSERT_NE(StartServer({"--host-key=" + Path("state/keys/host_key")}), 0);
  struct stat st;
  ASSERT_EQ(stat(Path("state/keys/host_key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  for (const char* dir : {"state", "state/keys"}) {
    ASSERT_EQ(stat(Path(dir).c_str(), &st), 0) << dir;
    EXPECT_EQ(st.st_mode & 0777, 0700) << dir;
  }
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
}

TEST_F(SftpgateProcessTest, ConfigFileWithFlagOverride) {
  WriteFile("sftpgate.toml",
            absl::StrCat("listen = \"127.0.0.1:0\"\nbackend = \"127.0.0.1:1\"\n"
                         "host_key = \"",
                         Path("host_key"), "\"\nusers = \"", Path("users.toml"),
                         "\"\nlog_format = \"json\"\n"));
  server_ = std::make_unique<Background>(
      std::vector<std::string>{kBinary, "--config=" + Path("sftpgate.toml")},
      Path("server.log"));
  ASSERT_TRUE(server_->WaitForStderr("\"event\":\"started\""))
      << server_->Stderr();
  EXPECT_EQ(server_->Stop(SIGTERM), 0);

  server_ = std::make_unique<Background>(
      std::vector<std::string>{kBinary, "--config", Path("sftpgate.toml"),
                               "--log-format=text"},
      Path("server.log"));
  ASSERT_TRUE(server_->WaitForStderr(" info started ")) << server_->Stderr();
  EXPECT_THAT(server_->Stderr(), Not(HasSubstr("{\"ts\"")));
}

// ---------------------------------------------------------------------------
// SSH: authentication.

TEST_F(SftpgateProcessTest, PasswordAuthentication) {
  int port = StartServer();
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  constexpr char kWrong[] = "not-the-password-Zq7";
  EXPECT_EQ(ssh_userauth_password(session, nullptr, kWrong), SSH_AUTH_DENIED);
  EXPECT_EQ(ssh_userauth_password(session, nullptr, kPassword),
            SSH_AUTH_SUCCESS);
  ASSERT_TRUE(server_->WaitForStderr("result=ok"));
  std::string log = server_->Stderr();
  EXPECT_THAT(log, HasSubstr("auth session="));
  EXPECT_THAT(log, HasSubstr("user=alice remote=127.0.0.1:"));
  EXPECT_THAT(log, HasSubstr("method=password result=fail"));
  EXPECT_THAT(log, HasSubstr("method=password result=ok"));
  EXPECT_THAT(log, HasSubstr("reason=\"wrong password\""));
  EXPECT_THAT(log, Not(HasSubstr(kPassword)));
  EXPECT_THAT(log, Not(HasSubstr(kWrong)));
}

TEST_F(SftpgateProcessTest, OnlyModernAlgorithmsAreNegotiated) {
  int port = StartServer();
  struct Case {
    ssh_options_e option;
    const char* value;
    bool works;
  } cases[] = {
      {SSH_OPTIONS_CIPHERS_C_S, "aes128-cbc", false},
      {SSH_OPTIONS_CIPHERS_C_S, "3des-cbc", false},
      {SSH_OPTIONS_HMAC_C_S, "hmac-sha1", false},
      {SSH_OPTIONS_KEY_EXCHANGE, "diffie-hellman-group14-sha1", false},
      {SSH_OPTIONS_HOSTKEYS, "ssh-rsa", false},
      {SSH_OPTIONS_CIPHERS_C_S, "aes128-gcm@openssh.com", true},
      {SSH_OPTIONS_CIPHERS_C_S, "aes256-ctr", true},
      {SSH_OPTIONS_HMAC_C_S, "hmac-sha2-256-etm@openssh.com", true},
      {SSH_OPTIONS_KEY_EXCHANGE, "diffie-hellman-group14-sha256", true},
  };
  for (const Case& c : cases) {
    ssh_session session = Connect(port, "alice", [&](ssh_session s) {
      // Pin the cipher too when testing a MAC (AEAD ciphers bring their own).
      if (c.option == SSH_OPTIONS_HMAC_C_S) {
        ssh_options_set(s, SSH_OPTIONS_CIPHERS_C_S, "aes128-ctr");
      }
      ssh_options_set(s, c.option, c.value);
    });
    EXPECT_EQ(session != nullptr, c.works) << c.value;
  }
}

TEST_F(SftpgateProcessTest, UnknownUserIsDenied) {
  int port = StartServer();
  ssh_session session = Connect(port, "mallory");
  ASSERT_NE(session, nullptr);
  EXPECT_EQ(ssh_userauth_password(session, nullptr, kPassword),
            SSH_AUTH_DENIED);
  EXPECT_EQ(ssh_userauth_publickey(session, nullptr, user_key_),
            SSH_AUTH_DENIED);
}

TEST_F(SftpgateProcessTest, PublicKeyAuthentication) {
  int port = StartServer();
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  ssh_key other = nullptr;
  ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &other), SSH_OK);
  ssh_key other_public = nullptr;
  ssh_key user_public = nullptr;
  ASSERT_EQ(ssh_pki_export_privkey_to_pubkey(other, &other_public), SSH_OK);
  ASSERT_EQ(ssh_pki_export_privkey_to_pubkey(user_key_, &user_public), SSH_OK);
  // Probes (no signature): only the authorized key is acceptable.
  EXPECT_EQ(ssh_userauth_try_publickey(session, nullptr, other_public),
            SSH_AUTH_DENIED);
  EXPECT_EQ(ssh_userauth_try_publickey(session, nullptr, user_public),
            SSH_AUTH_SUCCESS);
  // A probe is not a login: a signature by the wrong key still fails.
  EXPECT_EQ(ssh_userauth_publickey(session, nullptr, other), SSH_AUTH_DENIED);
  EXPECT_EQ(ssh_userauth_publickey(session, nullptr, user_key_),
            SSH_AUTH_SUCCESS);
  ASSERT_TRUE(server_->WaitForStderr("method=publickey result=ok key=SHA256:"));
  ssh_key_free(other);
  ssh_key_free(other_public);
  ssh_key_free(user_public);
}

TEST_F(SftpgateProcessTest, KeyboardInteractiveAuthentication) {
  int port = StartServer();
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  for (const char* answer : {"wrong", kPassword}) {
    ASSERT_EQ(ssh_userauth_kbdint(session, nullptr, nullptr), SSH_AUTH_INFO);
    ASSERT_EQ(ssh_userauth_kbdint_getnprompts(session), 1);
    char echo = 1;
    EXPECT_STREQ(ssh_userauth_kbdint_getprompt(session, 0, &echo),
                 "Password: ");
    EXPECT_EQ(echo, 0);
    ASSERT_EQ(ssh_userauth_kbdint_setanswer(session, 0, answer), 0);
    int rc = ssh_userauth_kbdint(session, nullptr, nullptr);
    EXPECT_EQ(rc, answer == kPassword ? SSH_AUTH_SUCCESS : SSH_AUTH_DENIED);
  }
  EXPECT_TRUE(server_->WaitForStderr("method=keyboard-interactive result=ok"));
  EXPECT_THAT(server_->Stderr(),
              HasSubstr("method=keyboard-interactive result=fail"));
}

TEST_F(SftpgateProcessTest, TooManyAuthFailuresDisconnect) {
  int port = StartServer({"--max-auth-tries=3"});
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ssh_userauth_password(session, nullptr, "bad"), SSH_AUTH_DENIED);
  }
  ASSERT_TRUE(
      server_->WaitForStderr("reason=\"too many authentication "
                             "failures\""));
  // Even the right password no longer helps: the connection is gone.
  EXPECT_NE(ssh_userauth_password(session, nullptr, kPassword),
            SSH_AUTH_SUCCESS);
}

TEST_F(SftpgateProcessTest, LoginGraceTimeDisconnects) {
  int port = StartServer({"--login-grace-seconds=1"});
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  ASSERT_TRUE(server_->WaitForStderr("reason=\"login grace time exceeded\"",
                                     absl::Seconds(10)));
  EXPECT_NE(ssh_userauth_password(session, nullptr, kPassword),
            SSH_AUTH_SUCCESS);
}

TEST_F(SftpgateProcessTest, MaxSessionsRejectsExtraConnections) {
  int port = StartServer({"--max-sessions=1"});
  ssh_session first = ConnectAuthenticated(port);
  ASSERT_NE(first, nullptr);
  ssh_session second = Connect(port);
  if (second != nullptr) {
    EXPECT_NE(ssh_userauth_password(second, nullptr, kPassword),
              SSH_AUTH_SUCCESS);
  }
  EXPECT_TRUE(server_->WaitForStderr("session_rejected"));
  // The first connection is unaffected.
  ssh_channel channel = ssh_channel_new(first);
  EXPECT_EQ(ssh_channel_open_session(channel), SSH_OK);
  ssh_channel_free(channel);
}

// ---------------------------------------------------------------------------
// SSH: channels and requests.

TEST_F(SftpgateProcessTest, OnlyTheSftpSubsystemIsAccepted) {
  int port = StartServer();
  ssh_session session = ConnectAuthenticated(port);
  ASSERT_NE(session, nullptr);
  auto open = [&] {
    ssh_channel channel = ssh_channel_new(session);
    EXPECT_EQ(ssh_channel_open_session(channel), SSH_OK);
    return channel;
  };
  ssh_channel channel = open();
  EXPECT_EQ(ssh_channel_request_exec(channel, "id"), SSH_ERROR);
  EXPECT_EQ(ssh_channel_request_shell(channel), SSH_ERROR);
  EXPECT_EQ(ssh_channel_request_pty(channel), SSH_ERROR);
  EXPECT_EQ(ssh_channel_request_x11(channel, 0, nullptr, nullptr, 0),
            SSH_ERROR);
  EXPECT_EQ(ssh_channel_request_subsystem(channel, "netconf"), SSH_ERROR);
  EXPECT_EQ(ssh_channel_request_subsystem(channel, "sftp"), SSH_OK);
  // A second sftp on the same channel is refused.
  EXPECT_EQ(ssh_channel_request_subsystem(channel, "sftp"), SSH_ERROR);
  ssh_channel_free(channel);

  // Port forwarding is refused; the connection survives it.
  ssh_channel forward = ssh_channel_new(session);
  EXPECT_EQ(
      ssh_channel_open_forward(forward, "127.0.0.1", 22, "127.0.0.1", 5555),
      SSH_ERROR);
  ssh_channel_free(forward);
  EXPECT_EQ(ssh_channel_listen_forward(session, "127.0.0.1", 0, nullptr),
            SSH_ERROR);
  ssh_channel again = open();
  ssh_channel_free(again);

  std::string log = server_->Stderr();
  EXPECT_THAT(log, HasSubstr("channel_request_refused"));
  // `id` is not on the exec allow-list (legacy scp and checksums are).
  EXPECT_THAT(log, HasSubstr("exec_refused"));
  EXPECT_THAT(log, HasSubstr("request=shell"));
  EXPECT_THAT(log, HasSubstr("channel_open_refused"));
  EXPECT_THAT(log, HasSubstr("sftp_start"));
}

TEST_F(SftpgateProcessTest, ChannelsBeforeAuthenticationAreRefused) {
  int port = StartServer();
  ssh_session session = Connect(port);
  ASSERT_NE(session, nullptr);
  ssh_channel channel = ssh_channel_new(session);
  EXPECT_NE(ssh_channel_open_session(channel), SSH_OK);
  ssh_channel_free(channel);
}

TEST_F(SftpgateProcessTest, ShutdownWithLiveConnectionsExitsCleanly) {
  int port = StartServer();
  std::vector<ssh_session> sessions;
  for (int i = 0; i < 4; ++i) {
    ssh_session session = ConnectAuthenticated(port);
    ASSERT_NE(session, nullptr);
    sessions.push_back(session);
  }
  ssh_session pending = Connect(port);  // not authenticated
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  std::string log = server_->Stderr();
  EXPECT_THAT(log, HasSubstr("reason=\"server shutting down\""));
  EXPECT_THAT(log, HasSubstr(" stopped"));
}

TEST_F(SftpgateProcessTest, ShutdownGraceClosesQuietConnectionsAtOnce) {
  // Transfers in progress are covered by tests/ops/test_lifecycle.py; with
  // nothing in progress every connection is closed at once, cleanly, and
  // the server exits long before the grace ends.
  int port = StartServer({"--shutdown-grace-seconds=60"});
  ssh_session idle = ConnectAuthenticated(port);
  ASSERT_NE(idle, nullptr);
  ssh_session unauthenticated = Connect(port);
  ASSERT_NE(unauthenticated, nullptr);
  server_->Signal(SIGTERM);
  ASSERT_TRUE(server_->WaitForStderr("draining connections=2"));
  EXPECT_EQ(server_->Stop(0, absl::Seconds(30)), 0);
  std::string log = server_->Stderr();
  size_t closed = 0;
  for (size_t at = log.find("reason=\"server shutting down\"");
       at != std::string::npos;
       at = log.find("reason=\"server shutting down\"", at + 1)) {
    ++closed;
  }
  EXPECT_EQ(closed, 2u) << log;
  EXPECT_THAT(log, HasSubstr(" stopped"));
  ssh_channel channel = ssh_channel_new(idle);
  EXPECT_NE(ssh_channel_open_session(channel), SSH_OK);
  ssh_channel_free(channel);
}

}  // namespace
}  // namespace sftpgate
