// Names that are not UTF-8 (a Latin-1 file name on disk) never make the
// host send a message protobuf refuses to parse: a listing leaves those
// entries out and keeps every other one, owner/group names are dropped, and
// ReadLink/RealPath answer FAILED_PRECONDITION. Over a real gRPC channel,
// whose receiving side refuses such messages as the front end's does.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sftpgate/attributes.h"
#include "tests/sdk/recording_backend.h"
#include "tests/sdk/testing/served_backend.h"

namespace sftpgate::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr char kLatin1Name[] = "lat\xe9.txt";  // "laté.txt" in Latin-1

// Lists `names` (given sorted) with a Latin-1 owner name on "owned"; reads
// every link and resolves every path to `answer`.
class BadNamesBackend : public RecordingBackend {
 public:
  BadNamesBackend(std::vector<std::string> names, std::string answer)
      : names_(std::move(names)), answer_(std::move(answer)) {}

  absl::StatusOr<Attributes> Stat(const Session&, absl::string_view path,
                                  bool) override {
    return AttributesFor(path.substr(1));
  }
  absl::Status ListDir(const Session&, absl::string_view,
                       const DirEntrySink& sink) override {
    for (const std::string& name : names_) {
      DirEntry entry;
      entry.set_name(name);
      *entry.mutable_attributes() = AttributesFor(name);
      absl::Status status = sink(std::move(entry));
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> ReadLink(const Session&,
                                       absl::string_view) override {
    return answer_;
  }
  absl::StatusOr<std::string> RealPath(const Session&,
                                       absl::string_view) override {
    return answer_;
  }

 private:
  static Attributes AttributesFor(absl::string_view name) {
    Attributes attributes = MakeFileAttributes(1, 0644, 0);
    if (name == "owned") {
      attributes.set_owner("jos\xe9");
      attributes.set_group("staff");
    }
    return attributes;
  }

  const std::vector<std::string> names_;
  const std::string answer_;
};

std::vector<std::string> Names(const std::vector<DirEntry>& entries) {
  std::vector<std::string> names;
  for (const DirEntry& e : entries) names.push_back(e.name());
  return names;
}

TEST(Utf8RepliesTest, ListingSkipsOnlyTheBadNames) {
  // 1,500 good names around two bad ones: without the skip, every batch
  // holding a bad name is lost on the receiving side.
  std::vector<std::string> all, good;
  for (int i = 0; i < 1500; ++i) {
    std::string name = absl::StrCat("f", 10000 + i);
    all.push_back(name);
    good.push_back(name);
    if (i == 700) all.push_back(absl::StrCat(name, "-\xe9"));
  }
  all.push_back(kLatin1Name);
  all.push_back("owned");
  good.push_back("owned");
  BadNamesBackend backend(all, "/x");
  ServeOptions options;
  options.list_batch_size = 512;
  auto served = ServedBackend::Start(&backend, options);
  ASSERT_TRUE(served.ok()) << served.status();
  ::testing::internal::CaptureStderr();
  auto listing = (*served)->client().ListDir("/d");
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(listing.ok()) << listing.status();
  EXPECT_THAT(Names(listing->entries), ElementsAreArray(good));
  // The Latin-1 owner is dropped, the entry and its good group kept.
  const DirEntry& owned = listing->entries.back();
  EXPECT_EQ(owned.attributes().owner(), "");
  EXPECT_EQ(owned.attributes().group(), "staff");
  // One line naming the directory and the count, the bytes escaped.
  EXPECT_THAT(log, HasSubstr("list \"/d\""));
  EXPECT_THAT(log, HasSubstr("skipped 2 entries whose name is not valid"));
  EXPECT_THAT(log, HasSubstr("f10700-\\xe9"));
  EXPECT_EQ(log.find('\xe9'), std::string::npos);

  // Resumed after a name: the same, from there on.
  auto resumed = (*served)->client().ListDir("/d", "f11400");
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_THAT(Names(resumed->entries),
              ElementsAreArray(good.begin() + 1401, good.end()));
}

TEST(Utf8RepliesTest, StatDropsABadOwnerName) {
  BadNamesBackend backend({}, "/x");
  auto served = ServedBackend::Start(&backend);
  ASSERT_TRUE(served.ok()) << served.status();
  auto attributes = (*served)->client().Stat("/owned");
  ASSERT_TRUE(attributes.ok()) << attributes.status();
  EXPECT_EQ(attributes->owner(), "");
  EXPECT_EQ(attributes->group(), "staff");
  EXPECT_EQ(attributes->size(), 1u);
}

TEST(Utf8RepliesTest, ReadLinkAndRealPathRefuseBadNames) {
  BadNamesBackend bad({}, absl::StrCat("/dir/", kLatin1Name));
  auto served = ServedBackend::Start(&bad);
  ASSERT_TRUE(served.ok()) << served.status();
  auto target = (*served)->client().ReadLink("/link");
  EXPECT_EQ(target.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(target.status().message(), HasSubstr("not valid UTF-8"));
  auto real = (*served)->client().RealPath("/link");
  EXPECT_EQ(real.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(real.status().message(), HasSubstr("not valid UTF-8"));

  // Good answers pass unchanged.
  BadNamesBackend good({}, "/dir/caf\xc3\xa9");
  served = ServedBackend::Start(&good);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(*(*served)->client().ReadLink("/link"), "/dir/caf\xc3\xa9");
  EXPECT_EQ(*(*served)->client().RealPath("/link"), "/dir/caf\xc3\xa9");
}

}  // namespace
}  // namespace sftpgate::testing
