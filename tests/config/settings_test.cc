// Settings: TOML loading, validation and listen-address parsing.

#include "server/config/settings.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/sftp/sftp_session.h"

namespace sftpgate::server {
namespace {

using ::testing::HasSubstr;

TEST(SettingsTest, DefaultsAreValidOnceRequiredValuesAreSet) {
  Settings s;
  EXPECT_THAT(std::string(ValidateSettings(s).message()),
              HasSubstr("--backend is required"));
  s.backend = "127.0.0.1:9000";
  s.host_key = "/tmp/k";
  s.users = "/tmp/u";
  EXPECT_TRUE(ValidateSettings(s).ok());
  EXPECT_EQ(s.listen, "127.0.0.1:2222");
}

// The settings name the SFTP layer's limits without depending on it; the
// defaults must still agree (the front end copies the settings over
// SftpLimits, so a drift would change behaviour silently).
TEST(SettingsTest, SftpDefaultsMatchTheSftpLayer) {
  const Settings settings;
  const SftpLimits limits;
  EXPECT_EQ(settings.call_timeout_ms, limits.call_timeout_ms);
  EXPECT_EQ(static_cast<uint32_t>(settings.max_in_flight),
            limits.max_in_flight);
  EXPECT_EQ(static_cast<uint32_t>(settings.max_handles), limits.max_handles);
  EXPECT_EQ(size_t{static_cast<uint32_t>(settings.transfer_buffer_mb)} << 20,
            limits.max_transfer_buffer);
}

TEST(SettingsTest, ParsesEveryKindOfValueAndBothKeySpellings) {
  Settings s;
  absl::Status status = ParseSettings(R"(
listen = "0.0.0.0:2022"
backend = "unix:/run/b.sock"
host-key = "/var/lib/sftpgate/key"
users = "/etc/sftpgate/users.toml"
log_format = "json"
max_sessions = 50
login-grace-seconds = 30
)",
                                      "cfg.toml", &s);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(s.listen, "0.0.0.0:2022");
  EXPECT_EQ(s.backend, "unix:/run/b.sock");
  EXPECT_EQ(s.host_key, "/var/lib/sftpgate/key");
  EXPECT_EQ(s.users, "/etc/sftpgate/users.toml");
  EXPECT_EQ(s.log_format, "json");
  EXPECT_EQ(s.max_sessions, 50);
  EXPECT_EQ(s.login_grace_seconds, 30);
  EXPECT_EQ(s.max_auth_tries, 6);  // untouched default
}

TEST(SettingsTest, UnknownKeyNamesFileLineAndKey) {
  Settings s;
  absl::Status status =
      ParseSettings("backend = \"x\"\nmax_sesions = 3\n", "cfg.toml", &s);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("cfg.toml:2: unknown setting \"max_sesions\""));
}

TEST(SettingsTest, WrongTypeNamesTheKey) {
  Settings s;
  absl::Status status = ParseSettings("\n\nmax_sessions = \"ten\"\n", "c", &s);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("c:3: max_sessions must be an integer, not a string"));
  status = ParseSettings("listen = 2222\n", "c", &s);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("listen must be a string, not an integer"));
}

TEST(SettingsTest, SyntaxErrorGivesLineAndColumn) {
  Settings s;
  absl::Status status = ParseSettings("a = 1\nlisten = \n", "bad.toml", &s);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("bad.toml:2:"));
}

TEST(SettingsTest, MissingFileIsNamed) {
  Settings s;
  absl::Status status = LoadSettingsFile("/nonexistent/sftpgate.toml", &s);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("cannot read config file /nonexistent/sftpgate.toml"));
}

TEST(SettingsTest, LoadsFromFile) {
  std::string path = testing::TempDir() + "/settings_test.toml";
  std::ofstream(path) << "backend = \"127.0.0.1:1\"\nevent_loop_threads = 3\n";
  Settings s;
  ASSERT_TRUE(LoadSettingsFile(path, &s).ok());
  EXPECT_EQ(s.backend, "127.0.0.1:1");
  EXPECT_EQ(s.event_loop_threads, 3);
  std::remove(path.c_str());
}

TEST(SettingsTest, LocalTargets) {
  for (const char* local :
       {"unix:/run/a.sock", "127.0.0.1:7100", "localhost:7100", "[::1]:7100",
        "dns:///localhost:7100", "ipv4:127.0.0.1:1,127.0.0.2:2"}) {
    EXPECT_TRUE(IsLocalTarget(local)) << local;
  }
  for (const char* remote :
       {"192.0.2.1:7100", "auth.example:7100", "dns:///auth.example:7100",
        "ipv4:127.0.0.1:1,192.0.2.1:2", "[2001:db8::1]:7100"}) {
    EXPECT_FALSE(IsLocalTarget(remote)) << remote;
  }
  Settings s;
  s.backend = "b";
  s.host_key = "k";
  s.auth = "grpc:192.0.2.1:7100";
  s.auth_allow_insecure = true;
  EXPECT_TRUE(ValidateSettings(s).ok());
}

TEST(SettingsTest, ValidationNamesTheBadSetting) {
  Settings base;
  base.backend = "b";
  base.host_key = "k";
  base.users = "u";
  struct Case {
    void (*mutate)(Settings*);
    const char* expected;
  } cases[] = {
      {[](Settings* s) { s->log_format = "xml"; }, "log_format"},
      {[](Settings* s) { s->log_level = "loud"; }, "log_level"},
      {[](Settings* s) { s->max_sessions = 0; }, "max_sessions"},
      {[](Settings* s) { s->max_auth_tries = -1; }, "max_auth_tries"},
      {[](Settings* s) { s->call_timeout_ms = 0; }, "call_timeout_ms"},
      {[](Settings* s) { s->event_loop_threads = -2; }, "event_loop_threads"},
      {[](Settings* s) { s->transfer_buffer_mb = 0; }, "transfer_buffer_mb"},
      {[](Settings* s) { s->transfer_buffer_total_mb = 8; },
       "transfer_buffer_total_mb must be at least transfer_buffer_mb (16)"},
      {[](Settings* s) { s->listen = "nohostport"; }, "listen address"},
      {[](Settings* s) { s->users = ""; }, "--users is required"},
      {[](Settings* s) { s->host_key = ""; }, "--host_key is required"},
      {[](Settings* s) { s->source_ipv6_prefix = 129; }, "source_ipv6_prefix"},
      {[](Settings* s) { s->auth_exempt_networks = "10.0.0.0/8,x"; },
       "auth_exempt_networks"},
      {[](Settings* s) { s->max_startups = -1; }, "max_startups"},
      {[](Settings* s) { s->backend_tls_cert = "c.pem"; }, "backend_tls_key"},
      {[](Settings* s) { s->auth = "grpc:192.0.2.1:7100"; },
       "auth_allow_insecure"},
  };
  for (const Case& c : cases) {
    Settings s = base;
    c.mutate(&s);
    absl::Status status = ValidateSettings(s);
    EXPECT_FALSE(status.ok()) << c.expected;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.expected));
  }
}

TEST(SettingsTest, TenantRoutesFromTomlAndFlags) {
  Settings s;
  absl::Status status = ParseSettings(R"(
auth = "grpc:unix:/run/auth.sock"
[tenants.acme]
backend = "unix:/run/acme.sock"
[tenants.globex]
backend = "dns:///globex:7000"
)",
                                      "cfg.toml", &s);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(s.auth, "grpc:unix:/run/auth.sock");
  ASSERT_TRUE(AddTenantBackend("acme=127.0.0.1:7001", &s).ok());
  ASSERT_TRUE(AddTenantBackend("new=ipv4:10.0.0.1:7,10.0.0.2:7", &s).ok());
  EXPECT_EQ(s.tenant_backends, (std::map<std::string, std::string>{
                                   {"acme", "127.0.0.1:7001"},
                                   {"globex", "dns:///globex:7000"},
                                   {"new", "ipv4:10.0.0.1:7,10.0.0.2:7"}}));
  for (const char* bad : {"acme", "=x", "acme="}) {
    EXPECT_FALSE(AddTenantBackend(bad, &s).ok()) << bad;
  }
  status = ParseSettings("[tenants.acme]\nbackend_target = \"x\"\n", "c", &s);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("c:2: tenants.acme: unknown key \"backend_target\""));
  status = ParseSettings("[tenants.acme]\nbackend = 3\n", "c", &s);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("tenants.acme.backend must be a non-empty string"));
}

TEST(SettingsTest, UsersFileIsOptionalWithDelegatedAuth) {
  Settings s;
  s.backend = "b";
  s.host_key = "k";
  EXPECT_THAT(std::string(ValidateSettings(s).message()),
              HasSubstr("--users is required"));
  s.auth = "grpc:unix:/run/auth.sock";
  EXPECT_TRUE(ValidateSettings(s).ok());
  s.auth = "ldap:x";
  EXPECT_THAT(std::string(ValidateSettings(s).message()),
              HasSubstr("auth must be grpc:TARGET"));
}

TEST(ListenAddressTest, ParsesV4V6AndNames) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:2222", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 2222);
  ASSERT_TRUE(ParseListenAddress("[::1]:0", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("localhost:22", &host, &port).ok());
  EXPECT_EQ(host, "localhost");
  for (const char* bad : {"", "2222", ":22", "h:", "h:99999", "h:x", "::1:22",
                          "[::1]22", "[::1]"}) {
    EXPECT_FALSE(ParseListenAddress(bad, &host, &port).ok()) << bad;
  }
}

}  // namespace
}  // namespace sftpgate::server
