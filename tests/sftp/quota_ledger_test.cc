// QuotaLedger: uploads of one user accounted together against the quota.

#include "server/sftp/quota_ledger.h"

#include <optional>

#include "gtest/gtest.h"

namespace sftpgate::server::sftp {
namespace {

UserLimits Quota(uint64_t bytes, uint64_t files) {
  UserLimits quota;
  quota.quota_bytes = bytes;
  quota.quota_files = files;
  return quota;
}

QuotaLedger::Usage UsageAt(const QuotaLedger& ledger, uint64_t bytes,
                           uint64_t files) {
  QuotaLedger::Usage usage;
  usage.bytes = bytes;
  usage.files = files;
  usage.mark = ledger.Now();
  return usage;
}

TEST(QuotaLedgerTest, ConcurrentUploadsShareTheQuota) {
  QuotaLedger ledger;
  const UserLimits quota = Quota(1000, 0);
  std::optional<QuotaLedger::Upload> a =
      ledger.Begin(quota, UsageAt(ledger, 100, 1), 0, true);
  std::optional<QuotaLedger::Upload> b =
      ledger.Begin(quota, UsageAt(ledger, 100, 1), 0, true);
  ASSERT_TRUE(a.has_value() && b.has_value());
  EXPECT_TRUE(ledger.Grow(quota, *a, 500));
  EXPECT_TRUE(ledger.Grow(quota, *b, 400));   // 100 + 500 + 400 = 1000
  EXPECT_FALSE(ledger.Grow(quota, *b, 401));  // one byte past
  // A refused upload ends without a commit: its room comes back.
  ledger.End(*a, /*committed=*/false);
  EXPECT_TRUE(ledger.Grow(quota, *b, 900));
  EXPECT_EQ(ledger.uploads(), 1u);
}

TEST(QuotaLedgerTest, CommitsAfterAUsageReadCountOnTopOfIt) {
  QuotaLedger ledger;
  const UserLimits quota = Quota(1000, 2);
  // b read the usage (0 bytes, 0 files) before a committed 600 bytes.
  std::optional<QuotaLedger::Upload> a =
      ledger.Begin(quota, UsageAt(ledger, 0, 0), 0, true);
  std::optional<QuotaLedger::Upload> b =
      ledger.Begin(quota, UsageAt(ledger, 0, 0), 0, true);
  ASSERT_TRUE(ledger.Grow(quota, *a, 600));
  ledger.End(*a, /*committed=*/true);
  EXPECT_TRUE(ledger.Grow(quota, *b, 400));
  EXPECT_FALSE(ledger.Grow(quota, *b, 401));
  // And the files they created: a third new file is past quota_files = 2
  // for a usage read before the commits (mark 0: the ledger's start)...
  ledger.End(*b, /*committed=*/true);
  QuotaLedger::Usage before;
  EXPECT_FALSE(ledger.Begin(quota, before, 0, true).has_value());
  // ... while a usage read after them is taken as it is.
  EXPECT_TRUE(ledger.Begin(quota, UsageAt(ledger, 0, 1), 0, true));
}

TEST(QuotaLedgerTest, NewFilesInProgressCountAgainstTheFileQuota) {
  QuotaLedger ledger;
  const UserLimits quota = Quota(0, 3);
  auto a = ledger.Begin(quota, UsageAt(ledger, 0, 2), 0, true);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(ledger.Begin(quota, UsageAt(ledger, 0, 2), 0, true));
  // Replacing an existing file adds no file.
  EXPECT_TRUE(ledger.Begin(quota, UsageAt(ledger, 0, 2), 10, false));
  ledger.End(*a, /*committed=*/false);
  EXPECT_TRUE(ledger.Begin(quota, UsageAt(ledger, 0, 2), 0, true));
}

TEST(QuotaLedgerTest, AReplacedFileDoesNotCountAgainstItself) {
  QuotaLedger ledger;
  const UserLimits quota = Quota(1000, 0);
  // 900 bytes stored, 600 of them the file being rewritten.
  auto a = ledger.Begin(quota, UsageAt(ledger, 900, 2), 600, false);
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(ledger.Grow(quota, *a, 700));   // 300 + 700
  EXPECT_FALSE(ledger.Grow(quota, *a, 701));  // 300 + 701
}

TEST(QuotaLedgersTest, OneLedgerPerUserAndRootWhileHeld) {
  QuotaLedgers ledgers;
  std::shared_ptr<QuotaLedger> a = ledgers.For("alice", "/alice");
  EXPECT_EQ(ledgers.For("alice", "/alice"), a);
  EXPECT_NE(ledgers.For("alice", "/other"), a);
  EXPECT_NE(ledgers.For("bob", "/alice"), a);
}

}  // namespace
}  // namespace sftpgate::server::sftp
