// Fuzz target: the users-file parser (server/config/users.h).
//
// Any text must give a status, never a crash, hang or exception. When it
// parses, the UserDb must keep what the header promises: non-empty unique
// names found by Find, at least one credential each, parsed keys, crypt
// hashes only, and normalized roots. NormalizeRoot is also fed the raw
// input: an accepted root is absolute, canonical and a fixed point.

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "fuzz_check.h"
#include "server/config/users.h"
#include "sftpgate/paths.h"

namespace sftpgate::server {
namespace {

void CheckRoot(absl::string_view raw) {
  absl::StatusOr<std::string> root = NormalizeRoot(raw);
  if (!root.ok()) return;
  FUZZ_CHECK(!root->empty() && root->front() == '/');
  FUZZ_CHECK(IsNormalizedPath(*root));
  FUZZ_CHECK(!absl::StrContains(*root, "//"));
  absl::StatusOr<std::string> again = NormalizeRoot(*root);
  FUZZ_CHECK(again.ok() && *again == *root);
}

void CheckDb(const UserDb& db) {
  FUZZ_CHECK(!db.users().empty());
  for (const UserRecord& user : db.users()) {
    FUZZ_CHECK(!user.name.empty() && user.name.size() <= 255);
    for (char c : user.name) {
      FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != 0x7f);
    }
    FUZZ_CHECK(db.Find(user.name) == &user);
    FUZZ_CHECK(!user.password_hash.empty() || !user.authorized_keys.empty());
    FUZZ_CHECK(user.password_hash.empty() || user.password_hash[0] == '$');
    for (const AuthorizedKey& key : user.authorized_keys) {
      FUZZ_CHECK(key.key != nullptr);
    }
    FUZZ_CHECK(IsNormalizedPath(user.root));
    CheckRoot(user.root);
  }
}

}  // namespace
}  // namespace sftpgate::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sftpgate::server::UserDb> db =
      sftpgate::server::ParseUsers(text, "fuzz.toml");
  if (db.ok()) {
    sftpgate::server::CheckDb(*db);
  } else {
    FUZZ_CHECK(!db.status().message().empty());
  }
  sftpgate::server::CheckRoot(text);
  return 0;
}
