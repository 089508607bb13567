// NameOrderer (sample-backends/s3/name_order.h): entries fed in S3 key
// order come out in name order, held no longer than needed.

#include "name_order.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sftpgate::s3 {
namespace {

struct Item {
  std::string name;
  bool dir;
};

// Feeds `items` in key order (name, plus '/' for a directory) and returns
// the names in the order they went out; `out_after` records how many had
// gone out after each Add.
std::vector<std::string> Order(std::vector<Item> items,
                               std::vector<size_t>* out_after = nullptr) {
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.name + (a.dir ? "/" : "") < b.name + (b.dir ? "/" : "");
  });
  std::vector<std::string> out;
  DirEntrySink sink = [&](DirEntry entry) {
    out.push_back(entry.name());
    return absl::OkStatus();
  };
  NameOrderer orderer(sink);
  for (const Item& item : items) {
    DirEntry entry;
    entry.set_name(item.name);
    EXPECT_TRUE(
        orderer.Add(item.name + (item.dir ? "/" : ""), std::move(entry)).ok());
    if (out_after != nullptr) out_after->push_back(out.size());
  }
  EXPECT_TRUE(orderer.Finish().ok());
  return out;
}

TEST(NameOrderTest, DirectoriesComeBeforeNamesTheyPrefix) {
  const std::vector<std::string> got = Order({{"a-b", false},
                                              {"a.txt", false},
                                              {"a", true},
                                              {"a b", true},
                                              {"ab", false},
                                              {"b", false},
                                              {"a-", true},
                                              {"\xc3\xbc", false}});
  std::vector<std::string> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(got, sorted);
  EXPECT_EQ(got.size(), 8u);
}

TEST(NameOrderTest, NamesWithoutPunctuationAreNotHeld) {
  std::vector<size_t> out_after;
  Order({{"alpha", false}, {"beta", true}, {"gamma", false}}, &out_after);
  EXPECT_EQ(out_after, (std::vector<size_t>{1, 2, 3}));
}

TEST(NameOrderTest, ARunIsHeldOnlyUntilItsDirectoryCouldHaveCome) {
  std::vector<size_t> out_after;
  // "x-1" and "x.2" wait for "x/" (or anything past it: "y").
  Order({{"x-1", false}, {"x.2", false}, {"y", false}}, &out_after);
  EXPECT_EQ(out_after, (std::vector<size_t>{0, 0, 3}));
}

}  // namespace
}  // namespace sftpgate::s3
