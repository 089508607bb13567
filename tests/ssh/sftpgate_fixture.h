// SftpgateFixture: runs the real sftpgate binary (and, when asked, the
// in-memory sample backend) in a temporary directory with a users file for
// "alice" (password kPassword and a generated ed25519 key), and connects to
// it with libssh's client API.

#ifndef SFTPGATE_TESTS_SSH_SFTPGATE_FIXTURE_H_
#define SFTPGATE_TESTS_SSH_SFTPGATE_FIXTURE_H_

#include <libssh/libssh.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "subprocess.h"

namespace sftpgate::testing_util {

inline constexpr char kPassword[] = "alice-Pa55word";

class SftpgateFixture : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  std::string Path(const std::string& name) const;
  void WriteFile(const std::string& name, const std::string& text);

  // Starts the memory backend on a unix socket in the temporary directory
  // and points the server's --backend at it. Needs the backend's path in
  // SFTPGATE_MEMORY_BACKEND.
  void StartMemoryBackend();

  // sftpgate's path and arguments (listen on a free port).
  std::vector<std::string> BaseArgs() const;
  // Starts sftpgate with BaseArgs() + extra; returns its port (0 on failure).
  int StartServer(std::vector<std::string> extra = {});

  // A connected (not authenticated) client session, freed by TearDown;
  // nullptr on failure.
  // `configure` may set more client options before connecting.
  ssh_session Connect(
      int port, const char* user = "alice",
      const std::function<void(ssh_session)>& configure = nullptr);
  // Connected and authenticated by password as alice.
  ssh_session ConnectAuthenticated(int port);
  // Disconnects and frees a session from Connect() before TearDown.
  void Disconnect(ssh_session session);

  std::string dir_;
  std::string backend_target_ = "127.0.0.1:1";  // nothing listens there
  ssh_key user_key_ = nullptr;
  std::unique_ptr<Background> server_;
  std::unique_ptr<Background> backend_;

 private:
  std::vector<ssh_session> sessions_;
};

}  // namespace sftpgate::testing_util

#endif  // SFTPGATE_TESTS_SSH_SFTPGATE_FIXTURE_H_
