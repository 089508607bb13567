// Unit tests of the SFTP v3 codec: framing, bounds-checked fields, ATTRS
// round trips and `ls -l` long names.

#include <cstdlib>
#include <ctime>
#include <string>

#include "gtest/gtest.h"
#include "server/sftp/attributes_codec.h"
#include "server/sftp/long_name.h"
#include "server/sftp/packet_framer.h"
#include "server/sftp/packet_reader.h"
#include "server/sftp/packet_writer.h"
#include "server/sftp/sftp_constants.h"

namespace sftpgate::server::sftp {
namespace {

std::string U32Bytes(uint32_t v) {
  std::string s(4, '\0');
  s[0] = static_cast<char>(v >> 24);
  s[1] = static_cast<char>(v >> 16);
  s[2] = static_cast<char>(v >> 8);
  s[3] = static_cast<char>(v);
  return s;
}

TEST(PacketWriterTest, FramesLengthTypeAndFields) {
  PacketWriter w(kFxpStatus);
  w.U32(7).U32(kFxNoSuchFile).String("gone").String("");
  const std::string p = std::move(w).Finish();
  ASSERT_EQ(p.size(), 4u + 1 + 4 + 4 + 8 + 4);
  EXPECT_EQ(p.substr(0, 4), U32Bytes(p.size() - 4));
  EXPECT_EQ(static_cast<uint8_t>(p[4]), kFxpStatus);
  PacketReader r(absl::string_view(p).substr(5));
  uint32_t id, code;
  absl::string_view msg, lang;
  ASSERT_TRUE(r.ReadU32(&id) && r.ReadU32(&code) && r.ReadString(&msg) &&
              r.ReadString(&lang));
  EXPECT_EQ(id, 7u);
  EXPECT_EQ(code, kFxNoSuchFile);
  EXPECT_EQ(msg, "gone");
  EXPECT_EQ(lang, "");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(PacketWriterTest, U64IsBigEndian) {
  PacketWriter w(kFxpData);
  w.U64(0x0102030405060708ull);
  const std::string p = std::move(w).Finish();
  EXPECT_EQ(p.substr(5), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
}

TEST(PacketReaderTest, TruncatedIntegerFailsAndStaysFailed) {
  PacketReader r(std::string("\x00\x00\x01", 3));
  uint32_t v;
  EXPECT_FALSE(r.ReadU32(&v));
  EXPECT_FALSE(r.ok());
  uint8_t b;
  EXPECT_FALSE(r.ReadU8(&b));  // sticky
}

TEST(PacketReaderTest, StringLongerThanPacketFails) {
  const std::string data = U32Bytes(100) + "short";
  PacketReader r(data);
  absl::string_view s;
  EXPECT_FALSE(r.ReadString(&s));
  EXPECT_FALSE(r.ok());
}

TEST(PacketReaderTest, HugeStringLengthFailsWithoutAllocating) {
  const std::string data = U32Bytes(0xffffffffu) + "x";
  PacketReader r(data);
  absl::string_view s;
  EXPECT_FALSE(r.ReadString(&s));
}

TEST(PacketReaderTest, ReadsU64) {
  const std::string data("\x00\x00\x00\x01\x00\x00\x00\x02", 8);
  PacketReader r(data);
  uint64_t v;
  ASSERT_TRUE(r.ReadU64(&v));
  EXPECT_EQ(v, (uint64_t{1} << 32) | 2);
}

std::string Packet(absl::string_view body) {
  return U32Bytes(body.size()) + std::string(body);
}

TEST(PacketFramerTest, WholePacketsAreViewsOfTheInput) {
  PacketFramer f(1024);
  const std::string in =
      Packet(absl::string_view("\x01\x00\x00\x00\x03", 5)) + Packet(
                                                                 "\x11"
                                                                 "abcdefg");
  absl::string_view rest = in;
  absl::string_view body;
  ASSERT_EQ(f.Next(&rest, &body), PacketFramer::Result::kPacket);
  EXPECT_EQ(body, absl::string_view("\x01\x00\x00\x00\x03", 5));
  EXPECT_GE(body.data(), in.data());  // no copy
  EXPECT_LT(body.data(), in.data() + in.size());
  ASSERT_EQ(f.Next(&rest, &body), PacketFramer::Result::kPacket);
  EXPECT_EQ(body,
            "\x11"
            "abcdefg");
  EXPECT_EQ(f.Next(&rest, &body), PacketFramer::Result::kNeedMore);
  EXPECT_TRUE(rest.empty());
}

TEST(PacketFramerTest, ReassemblesPacketsSplitAtEveryByte) {
  const std::string in = Packet(
                             "\x05"
                             "0123456789") +
                         Packet("\x06xyzzy");
  PacketFramer f(1024);
  std::vector<std::string> bodies;
  for (char c : in) {
    absl::string_view rest(&c, 1);
    absl::string_view body;
    while (true) {
      auto r = f.Next(&rest, &body);
      if (r == PacketFramer::Result::kPacket) {
        bodies.emplace_back(body);
        continue;
      }
      ASSERT_EQ(r, PacketFramer::Result::kNeedMore);
      break;
    }
  }
  ASSERT_EQ(bodies.size(), 2u);
  EXPECT_EQ(bodies[0],
            "\x05"
            "0123456789");
  EXPECT_EQ(bodies[1], "\x06xyzzy");
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(PacketFramerTest, OversizedLengthIsRejectedBeforeBuffering) {
  PacketFramer f(1024);
  const std::string in = U32Bytes(1025) + "\x03";
  absl::string_view rest = in;
  absl::string_view body;
  EXPECT_EQ(f.Next(&rest, &body), PacketFramer::Result::kBadLength);
  EXPECT_EQ(f.buffered(), 0u);
  // Stays failed.
  absl::string_view more = "\x00\x00\x00\x05\x01\x00\x00\x00\x03";
  EXPECT_EQ(f.Next(&more, &body), PacketFramer::Result::kBadLength);
}

TEST(PacketFramerTest, HugeLengthSplitAcrossInputsIsRejected) {
  PacketFramer f(1024);
  absl::string_view a("\xff\xff", 2), b("\xff\xff\x01", 3), body;
  EXPECT_EQ(f.Next(&a, &body), PacketFramer::Result::kNeedMore);
  EXPECT_EQ(f.Next(&b, &body), PacketFramer::Result::kBadLength);
}

TEST(PacketFramerTest, ZeroAndTooShortLengthsAreRejected) {
  for (uint32_t len : {0u, 1u, 4u}) {
    PacketFramer f(1024);
    const std::string in = U32Bytes(len) + std::string(len, '\x01');
    absl::string_view rest = in, body;
    EXPECT_EQ(f.Next(&rest, &body), PacketFramer::Result::kBadLength) << len;
  }
}

TEST(PacketFramerTest, MaximumLengthIsAccepted) {
  PacketFramer f(16);
  const std::string in = Packet(std::string(16, '\x05'));
  absl::string_view rest = in, body;
  EXPECT_EQ(f.Next(&rest, &body), PacketFramer::Result::kPacket);
  EXPECT_EQ(body.size(), 16u);
}

v1::Attributes RoundTrip(const v1::Attributes& in) {
  PacketWriter w(kFxpAttrs);
  EncodeAttributes(in, &w);
  const std::string p = std::move(w).Finish();
  PacketReader r(absl::string_view(p).substr(5));
  v1::Attributes out;
  EXPECT_TRUE(DecodeAttributes(&r, &out));
  EXPECT_EQ(r.remaining(), 0u);
  return out;
}

TEST(AttributesCodecTest, FullRoundTrip) {
  v1::Attributes a;
  a.set_size(1ull << 40);
  a.set_uid(1000);
  a.set_gid(100);
  a.set_mode(0100644);
  a.set_atime(1700000000);
  a.set_mtime(1700000100);
  const v1::Attributes b = RoundTrip(a);
  EXPECT_EQ(b.size(), a.size());
  EXPECT_EQ(b.uid(), 1000u);
  EXPECT_EQ(b.gid(), 100u);
  EXPECT_EQ(b.mode(), 0100644u);
  EXPECT_EQ(b.atime(), 1700000000);
  EXPECT_EQ(b.mtime(), 1700000100);
}

TEST(AttributesCodecTest, EmptyRoundTripHasNoFields) {
  const v1::Attributes b = RoundTrip(v1::Attributes());
  EXPECT_FALSE(b.has_size());
  EXPECT_FALSE(b.has_uid());
  EXPECT_FALSE(b.has_mode());
  EXPECT_FALSE(b.has_mtime());
}

TEST(AttributesCodecTest, PartialFieldsAndFallbacks) {
  v1::Attributes a;
  a.set_uid(5);     // gid missing: UIDGID not sent
  a.set_mtime(42);  // atime missing: sent as mtime
  const v1::Attributes b = RoundTrip(a);
  EXPECT_FALSE(b.has_uid());
  EXPECT_FALSE(b.has_size());
  EXPECT_EQ(b.atime(), 42);
  EXPECT_EQ(b.mtime(), 42);
}

TEST(AttributesCodecTest, SkipsExtendedPairs) {
  PacketWriter w(kFxpAttrs);
  w.U32(kAttrSize | kAttrExtended).U64(9).U32(2);
  w.String("a@x").String("1").String("b@x").String("22");
  w.U32(0xdeadbeef);  // next field after ATTRS
  const std::string p = std::move(w).Finish();
  PacketReader r(absl::string_view(p).substr(5));
  v1::Attributes out;
  ASSERT_TRUE(DecodeAttributes(&r, &out));
  EXPECT_EQ(out.size(), 9u);
  uint32_t next;
  ASSERT_TRUE(r.ReadU32(&next));
  EXPECT_EQ(next, 0xdeadbeefu);
}

TEST(AttributesCodecTest, TruncatedAttributesFail) {
  PacketWriter w(kFxpAttrs);
  EncodeAttributes(
      [] {
        v1::Attributes a;
        a.set_size(1);
        a.set_mode(0644);
        a.set_mtime(3);
        return a;
      }(),
      &w);
  const std::string p = std::move(w).Finish();
  const absl::string_view body = absl::string_view(p).substr(5);
  for (size_t cut = 0; cut < body.size(); ++cut) {
    PacketReader r(body.substr(0, cut));
    v1::Attributes out;
    EXPECT_FALSE(DecodeAttributes(&r, &out)) << cut;
  }
  // An absurd extended count fails on the first missing pair.
  PacketWriter e(kFxpAttrs);
  e.U32(kAttrExtended).U32(0xffffffffu);
  const std::string pe = std::move(e).Finish();
  PacketReader re(absl::string_view(pe).substr(5));
  v1::Attributes out;
  EXPECT_FALSE(DecodeAttributes(&re, &out));
}

TEST(LongNameTest, ModeStrings) {
  EXPECT_EQ(ModeString(0100644), "-rw-r--r--");
  EXPECT_EQ(ModeString(0040755), "drwxr-xr-x");
  EXPECT_EQ(ModeString(0120777), "lrwxrwxrwx");
  EXPECT_EQ(ModeString(0104755), "-rwsr-xr-x");
  EXPECT_EQ(ModeString(0102644), "-rw-r-Sr--");
  EXPECT_EQ(ModeString(0041777), "drwxrwxrwt");
  EXPECT_EQ(ModeString(0041776), "drwxrwxrwT");
}

class LongNameTimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(LongNameTimeTest, RecentFileShowsTime) {
  v1::Attributes a;
  a.set_mode(0100644);
  a.set_nlink(1);
  a.set_owner("alice");
  a.set_group("staff");
  a.set_size(1234);
  a.set_mtime(1795772400);  // 2026-11-27 09:40:00 UTC
  EXPECT_EQ(FormatLongName("notes.txt", a, 1795772400 + 3600),
            "-rw-r--r--    1 alice    staff        1234 Nov 27 09:40 "
            "notes.txt");
}

TEST_F(LongNameTimeTest, OldFileShowsYearAndNumericIds) {
  v1::Attributes a;
  a.set_mode(0040755);
  a.set_nlink(3);
  a.set_uid(1000);
  a.set_gid(1000);
  a.set_size(4096);
  a.set_mtime(1577880000);  // 2020-01-01 12:00:00 UTC
  EXPECT_EQ(FormatLongName("dir", a, 1795772400),
            "drwxr-xr-x    3 1000     1000         4096 Jan  1  2020 dir");
}

TEST_F(LongNameTimeTest, UnnamedOwnerAndGroupShowTheSessionUser) {
  v1::Attributes a;
  a.set_mode(0100644);
  a.set_uid(998);  // the backend process's account: means nothing to alice
  a.set_gid(998);
  a.set_group("staff");  // a name the backend reports wins
  a.set_size(5);
  a.set_mtime(1577880000);
  EXPECT_EQ(FormatLongName("f", a, 1795772400, "alice"),
            "-rw-r--r--    1 alice    staff           5 Jan  1  2020 f");
}

TEST_F(LongNameTimeTest, FutureFileShowsYearAndLongNamesWiden) {
  v1::Attributes a;
  a.set_mode(0100600);
  a.set_owner("a-very-long-owner");
  a.set_size(0);
  a.set_mtime(1795772400 + 86400);
  EXPECT_EQ(FormatLongName("f", a, 1795772400),
            "-rw-------    1 a-very-long-owner ?               0 Nov 28  2026 "
            "f");
}

// Logs, metrics and replies name a status from one table: codes 6 and 7
// (which the front end never sends but a fake or future path could) keep
// their own names instead of falling into "other".
TEST(StatusNamesTest, EveryV3CodeHasItsOwnLabelAndMessage) {
  EXPECT_STREQ(StatusCodeLabel(kFxNoSuchFile), "no_such_file");
  EXPECT_STREQ(StatusCodeLabel(kFxNoConnection), "no_connection");
  EXPECT_STREQ(StatusCodeLabel(kFxConnectionLost), "connection_lost");
  EXPECT_STREQ(StatusCodeLabel(kFxOpUnsupported), "op_unsupported");
  EXPECT_STREQ(StatusCodeLabel(kFxOpUnsupported + 1), "other");
  EXPECT_STREQ(StatusCodeMessage(kFxConnectionLost), "Connection lost");
  EXPECT_STREQ(StatusCodeMessage(kFxOpUnsupported + 1), "Unknown error");
}

}  // namespace
}  // namespace sftpgate::server::sftp
