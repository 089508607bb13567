// Replier: every accepted request is answered once; what a buggy second
// answer or a closed session does; what the answer counts in the metrics.

#include "server/sftp/replier.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/common/metrics.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

class RecordingSink : public PacketSink {
 public:
  void Send(std::string bytes) override { packets.push_back(std::move(bytes)); }
  // Records where the packet starts too: a DATA reply is framed in place.
  void SendFrom(std::string buffer, size_t start) override {
    starts.push_back(start);
    packets.push_back(buffer.substr(start));
  }
  size_t QueuedBytes() const override { return 0; }
  void Close() override { closed = true; }

  std::vector<std::string> packets;
  std::vector<size_t> starts;  // of every SendFrom
  bool closed = false;
};

class ReplierTest : public ::testing::Test {
 protected:
  ReplierTest() : metrics_(&registry_), replier_(MakeOptions()) {}

  Replier::Options MakeOptions() {
    session_.set_session_id("s1");
    session_.set_user("alice");
    Replier::Options options;
    options.sink = &sink_;
    options.session = &session_;
    options.metrics = &metrics_;
    options.after_reply = [this] { ++after_reply_calls_; };
    return options;
  }

  static Op MakeOp(uint32_t id) {
    Op op;
    op.id = id;
    op.name = "STAT";
    op.slot = 1;
    return op;
  }

  // The (type, id) of a queued packet.
  static std::pair<uint8_t, uint32_t> TypeAndId(const std::string& packet) {
    PacketReader in(absl::string_view(packet).substr(4));
    uint8_t type = 0;
    uint32_t id = 0;
    in.ReadU8(&type);
    in.ReadU32(&id);
    return {type, id};
  }

  int64_t GaugeInFlight() const {
    return metrics_.requests_in_flight()->value();
  }

  Metrics registry_;
  SftpMetrics metrics_;
  v1::Session session_;
  RecordingSink sink_;
  int after_reply_calls_ = 0;
  Replier replier_;
};

TEST_F(ReplierTest, EachAcceptedRequestIsAnsweredOnce) {
  replier_.Accept(MakeOp(7));
  replier_.Accept(MakeOp(8));
  EXPECT_EQ(replier_.InFlight(), 2u);
  EXPECT_EQ(GaugeInFlight(), 2);

  replier_.Status(MakeOp(8), kFxNoSuchFile);
  replier_.NewHandle(MakeOp(7), "h1");
  ASSERT_EQ(sink_.packets.size(), 2u);
  EXPECT_EQ(TypeAndId(sink_.packets[0]),
            std::make_pair(uint8_t{kFxpStatus}, 8u));
  EXPECT_EQ(TypeAndId(sink_.packets[1]),
            std::make_pair(uint8_t{kFxpHandle}, 7u));
  EXPECT_EQ(replier_.InFlight(), 0u);
  EXPECT_EQ(GaugeInFlight(), 0);
  EXPECT_EQ(after_reply_calls_, 2);
  const std::string text = registry_.RenderPrometheus();
  EXPECT_NE(text.find(R"(op="STAT",status="no_such_file"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(op="STAT",status="ok"} 1)"), std::string::npos)
      << text;
}

TEST_F(ReplierTest, ASecondAnswerNeverReachesTheClient) {
  replier_.Accept(MakeOp(3));
  replier_.Status(MakeOp(3), kFxOk);
  replier_.Status(MakeOp(3), kFxFailure);  // a handler bug
  replier_.Status(MakeOp(4), kFxOk);       // never accepted
  EXPECT_EQ(sink_.packets.size(), 1u);
  EXPECT_EQ(replier_.InFlight(), 0u);
  EXPECT_EQ(GaugeInFlight(), 0);
}

TEST_F(ReplierTest, AReusedIdIsOwedOneAnswerPerRequest) {
  // Clients should not reuse an id in flight, but if one does, each of its
  // requests still gets its one answer.
  replier_.Accept(MakeOp(5));
  replier_.Accept(MakeOp(5));
  replier_.Status(MakeOp(5), kFxOk);
  replier_.Status(MakeOp(5), kFxOk);
  replier_.Status(MakeOp(5), kFxOk);
  EXPECT_EQ(sink_.packets.size(), 2u);
  EXPECT_EQ(replier_.InFlight(), 0u);
}

TEST_F(ReplierTest, AfterCloseRepliesAreDroppedAndTheGaugeIsRestored) {
  replier_.Accept(MakeOp(1));
  replier_.Accept(MakeOp(2));
  replier_.Status(MakeOp(1), kFxOk);
  replier_.Close();
  EXPECT_EQ(GaugeInFlight(), 0);
  replier_.Status(MakeOp(2), kFxOk);
  replier_.Unsolicited("late");
  EXPECT_EQ(sink_.packets.size(), 1u);
  replier_.Close();  // idempotent
  EXPECT_EQ(GaugeInFlight(), 0);
}

// A DATA reply is framed in the room the chunk keeps in front of its data,
// wherever the data starts (a chunk whose front a READ already took has
// more room); a chunk without room (an empty one) is copied.
TEST_F(ReplierTest, DataRepliesAreFramedInFrontOfTheirChunk) {
  backend::DataChunk whole(0, "hello");
  backend::DataChunk rest(0, "xxhello");
  rest.RemovePrefix(2);
  backend::DataChunk empty;
  const std::string expected_hello =
      std::string("\0\0\0\x0e\x67\0\0\0\x07\0\0\0\x05hello", 18);
  Op op = MakeOp(7);
  for (backend::DataChunk* chunk : {&whole, &rest}) {
    replier_.Accept(op);
    replier_.Data(op, std::move(*chunk));
  }
  replier_.Accept(op);
  replier_.Data(op, std::move(empty));
  ASSERT_EQ(sink_.packets.size(), 3u);
  EXPECT_EQ(sink_.packets[0], expected_hello);
  EXPECT_EQ(sink_.packets[1], expected_hello);
  EXPECT_EQ(sink_.packets[2],
            std::string("\0\0\0\x09\x67\0\0\0\x07\0\0\0\0", 13));
  EXPECT_EQ(sink_.starts, (std::vector<size_t>{0, 2, 0}));
  EXPECT_EQ(replier_.InFlight(), 0u);
}

}  // namespace
}  // namespace sftpgate::server::sftp
