// Data-path tests of the SSH layer against the real sftpgate and the memory
// backend, with a raw SFTP client: pipelined uploads and downloads through
// the channel window (backpressure), several channels on one connection, a
// client that stops reading while others on the same event loop go on, an
// abrupt disconnect in the middle of an upload, and clients hanging up while
// another connection of their event loop is busy.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "raw_sftp_client.h"
#include "sftpgate_fixture.h"

namespace sftpgate::testing_util {
namespace {

using Client = RawSftpClient;

std::string Content(size_t size, uint32_t seed) {
  std::mt19937 random(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(random());
  return data;
}

// Sends every WRITE of `data` to `path` before reading any reply.
void PipelinedUpload(Client& client, const std::string& path,
                     const std::string& data, size_t chunk) {
  std::string handle = client.Open(path, kFxfWrite | kFxfCreat | kFxfTrunc);
  ASSERT_FALSE(handle.empty()) << path;
  uint32_t requests = 0;
  for (size_t offset = 0; offset < data.size(); offset += chunk) {
    ASSERT_TRUE(client.Send(kFxpWrite, requests++,
                            Client::Str(handle) + Client::U64(offset) +
                                Client::Str(data.substr(offset, chunk))));
  }
  for (uint32_t i = 0; i < requests; ++i) {
    Reply reply;
    ASSERT_TRUE(client.Receive(&reply)) << "reply " << i << " of " << requests;
    ASSERT_EQ(reply.type, kFxpStatus);
    ASSERT_EQ(reply.StatusCode(), 0u) << reply.StatusMessage();
  }
  ASSERT_TRUE(client.Close(handle));
}

// Sends READs for the whole file; returns the number sent.
uint32_t SendReads(Client& client, const std::string& handle, size_t size,
                   size_t chunk) {
  uint32_t requests = 0;
  for (size_t offset = 0; offset < size; offset += chunk) {
    EXPECT_TRUE(client.Send(kFxpRead, requests++,
                            Client::Str(handle) + Client::U64(offset) +
                                Client::U32(static_cast<uint32_t>(chunk))));
  }
  return requests;
}

// Receives `requests` DATA replies (any order) and reassembles them.
std::string ReceiveReads(Client& client, uint32_t requests, size_t chunk) {
  std::map<uint32_t, std::string> pieces;
  for (uint32_t i = 0; i < requests; ++i) {
    Reply reply;
    if (!client.Receive(&reply)) {
      ADD_FAILURE() << "no reply " << i << " of " << requests;
      break;
    }
    if (reply.type != kFxpData) {
      ADD_FAILURE() << "READ " << reply.id << " failed: status "
                    << reply.StatusCode() << " \"" << reply.StatusMessage()
                    << "\"";
      break;
    }
    pieces[reply.id] = reply.body.substr(4);
  }
  std::string data;
  for (auto& [id, piece] : pieces) {
    EXPECT_EQ(data.size(), id * chunk);
    data += piece;
  }
  return data;
}

std::string PipelinedDownload(Client& client, const std::string& path,
                              size_t size, size_t chunk) {
  std::string handle = client.Open(path, kFxfRead);
  EXPECT_FALSE(handle.empty()) << path;
  uint32_t requests = SendReads(client, handle, size, chunk);
  std::string data = ReceiveReads(client, requests, chunk);
  EXPECT_TRUE(client.Close(handle));
  return data;
}

// Opens a TCP connection to the server, waits for its SSH banner and hangs
// up without a word: the server then reads EOF on that socket.
bool ConnectAndHangUp(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char banner[64];
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address),
                    sizeof(address)) == 0 &&
            recv(fd, banner, sizeof(banner), 0) > 0;
  close(fd);
  return ok;
}

class ChannelFlowTest : public SftpgateFixture {
 protected:
  void SetUp() override {
    SftpgateFixture::SetUp();
    StartMemoryBackend();
  }
};

TEST_F(ChannelFlowTest, PipelinedTransfersOnTwoChannelsOfOneConnection) {
  int port = StartServer();
  ssh_session session = ConnectAuthenticated(port);
  ASSERT_NE(session, nullptr);
  Client first(session);
  Client second(session);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  // 12 MiB each in 32 KiB writes: far more than the channel window, so the
  // server must stop reading and resume without losing or reordering bytes.
  std::string a = Content(12 << 20, 1);
  std::string b = Content(12 << 20, 2);
  PipelinedUpload(first, "/a.bin", a, 32 << 10);
  PipelinedUpload(second, "/b.bin", b, 32 << 10);
  EXPECT_TRUE(PipelinedDownload(second, "/a.bin", a.size(), 255 << 10) == a);
  EXPECT_TRUE(PipelinedDownload(first, "/b.bin", b.size(), 64 << 10) == b);
}

TEST_F(ChannelFlowTest, StalledReaderDoesNotHoldUpItsEventLoop) {
  // One event loop: both connections share its thread.
  int port = StartServer({"--event-loop-threads=1"});
  ssh_session stalled_session = ConnectAuthenticated(port);
  ASSERT_NE(stalled_session, nullptr);
  Client stalled(stalled_session);
  ASSERT_TRUE(stalled.ok());
  std::string big = Content(16 << 20, 3);
  PipelinedUpload(stalled, "/big.bin", big, 255 << 10);

  // Ask for 16 MiB and read none of it: the server fills the channel
  // window and must then just wait.
  std::string handle = stalled.Open("/big.bin", kFxfRead);
  ASSERT_FALSE(handle.empty());
  uint32_t requests = SendReads(stalled, handle, big.size(), 255 << 10);

  ssh_session other_session = ConnectAuthenticated(port);
  ASSERT_NE(other_session, nullptr);
  Client other(other_session);
  ASSERT_TRUE(other.ok());
  std::string small = Content(1 << 20, 4);
  PipelinedUpload(other, "/small.bin", small, 32 << 10);
  EXPECT_TRUE(PipelinedDownload(other, "/small.bin", small.size(), 32 << 10) ==
              small);

  // The stalled client reads at last and gets every byte.
  EXPECT_TRUE(ReceiveReads(stalled, requests, 255 << 10) == big);
  EXPECT_TRUE(stalled.Close(handle));
}

TEST_F(ChannelFlowTest, AbruptDisconnectMidUploadLeavesOthersWorking) {
  int port = StartServer({"--event-loop-threads=1"});
  ssh_session doomed_session = ConnectAuthenticated(port);
  ASSERT_NE(doomed_session, nullptr);
  ssh_session other_session = ConnectAuthenticated(port);
  ASSERT_NE(other_session, nullptr);
  {
    Client doomed(doomed_session);
    ASSERT_TRUE(doomed.ok());
    std::string handle = doomed.Open("/doomed.bin", kFxfWrite | kFxfCreat);
    ASSERT_FALSE(handle.empty());
    std::string chunk = Content(32 << 10, 5);
    for (uint32_t i = 0; i < 64; ++i) {
      ASSERT_TRUE(doomed.Send(kFxpWrite, i,
                              Client::Str(handle) +
                                  Client::U64(uint64_t{i} * chunk.size()) +
                                  Client::Str(chunk)));
    }
    // Cut the TCP connection under libssh: no channel close, no disconnect.
    shutdown(ssh_get_fd(doomed_session), SHUT_RDWR);
  }
  Disconnect(doomed_session);

  Client other(other_session);
  ASSERT_TRUE(other.ok());
  std::string data = Content(2 << 20, 6);
  PipelinedUpload(other, "/other.bin", data, 32 << 10);
  EXPECT_TRUE(PipelinedDownload(other, "/other.bin", data.size(), 64 << 10) ==
              data);
  ASSERT_TRUE(server_->WaitForStderr("session_end"));
  EXPECT_TRUE(server_->Running());
}

TEST_F(ChannelFlowTest, ClientsHangingUpDoNotEndOtherConnectionsOfTheLoop) {
  // Regression: libssh polls the event a session is in from inside calls
  // on that session (channel writes and reads); when that was the loop's
  // shared event, another client's EOF read in such a nested poll was
  // recorded as an error of the busy session, which the server then
  // disconnected ("Bye Bye"). One loop, so every connection shares it.
  int port = StartServer({"--event-loop-threads=1"});
  ssh_session busy_session = ConnectAuthenticated(port);
  ASSERT_NE(busy_session, nullptr);
  Client busy(busy_session);
  ASSERT_TRUE(busy.ok());
  std::string data = Content(2 << 20, 7);
  PipelinedUpload(busy, "/busy.bin", data, 32 << 10);

  // Clients hang up, over and over, while the busy connection downloads
  // in small pieces (many channel writes and reads per poll round). No
  // fatal assertion before the threads are joined.
  constexpr int kMaxHangUps = 4000;
  std::atomic<bool> stop{false};
  std::atomic<int> hang_ups{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (!stop.load() && hang_ups.load() + refused.load() < kMaxHangUps) {
        (ConnectAndHangUp(port) ? hang_ups : refused).fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 10; ++i) {
    if (PipelinedDownload(busy, "/busy.bin", data.size(), 4 << 10) != data) {
      ADD_FAILURE() << "download " << i << " failed after " << hang_ups.load()
                    << " hang-ups";
      break;
    }
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_GT(hang_ups.load(), 100);  // the downloads did overlap them
  EXPECT_TRUE(server_->Running());
}

}  // namespace
}  // namespace sftpgate::testing_util
