#include "sftpgate_fixture.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/config/password_hash.h"

namespace sftpgate::testing_util {

void SftpgateFixture::SetUp() {
  std::string templ = testing::TempDir() + "/sftpgate_testXXXXXX";
  ASSERT_NE(mkdtemp(templ.data()), nullptr);
  dir_ = templ;
  ASSERT_EQ(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &user_key_), SSH_OK);
  char* b64 = nullptr;
  ASSERT_EQ(ssh_pki_export_pubkey_base64(user_key_, &b64), SSH_OK);
  absl::StatusOr<std::string> hash = server::HashPassword(kPassword);
  ASSERT_TRUE(hash.ok());
  WriteFile("users.toml",
            absl::StrCat("[[user]]\nname = \"alice\"\npassword_hash = \"",
                         *hash, "\"\nauthorized_keys = [\"ssh-ed25519 ", b64,
                         " test\"]\nroot = \"/\"\n"));
  ssh_string_free_char(b64);
}

void SftpgateFixture::TearDown() {
  // Clients first, then the server, then its backend.
  for (ssh_session session : sessions_) {
    ssh_disconnect(session);
    ssh_free(session);
  }
  sessions_.clear();
  server_.reset();
  backend_.reset();
  ssh_key_free(user_key_);
  RunProcess({"/bin/rm", "-rf", dir_}, "");
}

std::string SftpgateFixture::Path(const std::string& name) const {
  return absl::StrCat(dir_, "/", name);
}

void SftpgateFixture::WriteFile(const std::string& name,
                                const std::string& text) {
  std::ofstream(Path(name)) << text;
}

void SftpgateFixture::StartMemoryBackend() {
  const char* binary = getenv("SFTPGATE_MEMORY_BACKEND");
  ASSERT_NE(binary, nullptr) << "SFTPGATE_MEMORY_BACKEND is not set";
  std::string socket = Path("backend.sock");
  backend_ = std::make_unique<Background>(
      std::vector<std::string>{binary, "--listen=unix:" + socket},
      Path("backend.log"));
  ASSERT_TRUE(backend_->WaitForStderr("listening")) << backend_->Stderr();
  backend_target_ = "unix:" + socket;
}

std::vector<std::string> SftpgateFixture::BaseArgs() const {
  return {SFTPGATE_BINARY,
          "--listen=127.0.0.1:0",
          "--backend=" + backend_target_,
          "--host-key=" + Path("host_key"),
          "--users=" + Path("users.toml"),
          "--event-loop-threads=2"};
}

int SftpgateFixture::StartServer(std::vector<std::string> extra) {
  std::vector<std::string> args = BaseArgs();
  args.insert(args.end(), extra.begin(), extra.end());
  server_ = std::make_unique<Background>(args, Path("server.log"));
  if (!server_->WaitForStderr(" started ")) {
    ADD_FAILURE() << "server did not start:\n" << server_->Stderr();
    return 0;
  }
  std::string log = server_->Stderr();
  const std::string marker = "listening address=127.0.0.1 port=";
  size_t at = log.find(marker);
  int port = 0;
  if (at == std::string::npos) {
    ADD_FAILURE() << "no port in log:\n" << log;
    return 0;
  }
  at += marker.size();
  if (!absl::SimpleAtoi(log.substr(at, log.find(' ', at) - at), &port)) {
    ADD_FAILURE() << "bad port in log:\n" << log;
  }
  return port;
}

ssh_session SftpgateFixture::Connect(
    int port, const char* user,
    const std::function<void(ssh_session)>& configure) {
  ssh_session session = ssh_new();
  bool no = false;
  unsigned int p = port;
  long timeout = 10;
  ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no);
  ssh_options_set(session, SSH_OPTIONS_HOST, "127.0.0.1");
  ssh_options_set(session, SSH_OPTIONS_PORT, &p);
  ssh_options_set(session, SSH_OPTIONS_USER, user);
  ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &timeout);
  if (configure) configure(session);
  if (ssh_connect(session) != SSH_OK) {
    ssh_free(session);
    return nullptr;
  }
  sessions_.push_back(session);
  return session;
}

ssh_session SftpgateFixture::ConnectAuthenticated(int port) {
  ssh_session session = Connect(port);
  if (session == nullptr) return nullptr;
  if (ssh_userauth_password(session, nullptr, kPassword) != SSH_AUTH_SUCCESS) {
    return nullptr;
  }
  return session;
}

void SftpgateFixture::Disconnect(ssh_session session) {
  auto it = std::find(sessions_.begin(), sessions_.end(), session);
  if (it == sessions_.end()) return;
  sessions_.erase(it);
  ssh_disconnect(session);
  ssh_free(session);
}

}  // namespace sftpgate::testing_util
