// Fuzz target: the SDK's lexical path helpers (sftpgate/paths.h), which
// confine every client path to its session's root.
//
// Input: "ROOT\nPATH" (ROOT is used only when it is normalized, else
// "/srv/u"), or just PATH. Checked, for any bytes:
// - IsValidUtf8 agrees with protobuf's own check, which decides whether a
//   path can travel in the contract's `string` fields.
// - NormalizePath fails only on NUL or invalid UTF-8; its result is
//   absolute, canonical (no "//", "/./", "/../", no trailing "/"),
//   IsNormalizedPath, and a fixed point: Normalize(Normalize(x)) ==
//   Normalize(x).
// - IsNormalizedPath(x) holds exactly when NormalizePath(x) == x.
// - ResolveBeneath(root, x) never escapes: its result is normalized,
//   beneath root, and equals root + Normalize(x) whenever it succeeds; it
//   refuses only a path that climbs with "..".
// - Appending "..", "." or a name to a path does to its normalized form
//   what it should (parent, nothing, JoinPath), also beneath a root.
// - SplitPath, PathComponents and JoinPath put a normalized path back
//   together; IsBeneath is the component-wise prefix test.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "fuzz_check.h"
#include "google/protobuf/stubs/common.h"
#include "sftpgate/paths.h"

namespace sftpgate {
namespace {

bool HasNul(absl::string_view s) {
  return s.find('\0') != absl::string_view::npos;
}

// What NormalizePath and ResolveBeneath refuse as INVALID_ARGUMENT.
bool Unusable(absl::string_view s) { return HasNul(s) || !IsValidUtf8(s); }

void CheckUtf8(absl::string_view s) {
  FUZZ_CHECK(IsValidUtf8(s) ==
             google::protobuf::internal::IsStructurallyValidUTF8(
                 s.data(), static_cast<int>(s.size())));
}

void CheckCanonical(const std::string& p) {
  FUZZ_CHECK(!p.empty() && p.front() == '/');
  FUZZ_CHECK(IsNormalizedPath(p));
  FUZZ_CHECK(!HasNul(p));
  const std::string slashed = p + "/";
  FUZZ_CHECK(!absl::StrContains(slashed, "//") || p == "/");
  FUZZ_CHECK(!absl::StrContains(slashed, "/./"));
  FUZZ_CHECK(!absl::StrContains(slashed, "/../"));
  FUZZ_CHECK(p == "/" || p.back() != '/');
}

// The pieces of a normalized path put it back together.
void CheckDecomposition(const std::string& p) {
  const std::vector<std::string> parts = PathComponents(p);
  FUZZ_CHECK("/" + absl::StrJoin(parts, "/") == p);
  for (const std::string& part : parts) FUZZ_CHECK(IsValidName(part));
  const PathParts split = SplitPath(p);
  FUZZ_CHECK(IsNormalizedPath(split.parent));
  if (p == "/") {
    FUZZ_CHECK(split.parent == "/" && split.base.empty());
  } else {
    FUZZ_CHECK(IsValidName(split.base));
    FUZZ_CHECK(JoinPath(split.parent, split.base) == p);
    FUZZ_CHECK(IsBeneath(split.parent, p));
  }
}

void CheckNormalize(absl::string_view x) {
  absl::StatusOr<std::string> n = NormalizePath(x);
  if (!n.ok()) {
    FUZZ_CHECK(Unusable(x));
    FUZZ_CHECK(absl::IsInvalidArgument(n.status()));
    FUZZ_CHECK(!IsNormalizedPath(x));
    return;
  }
  FUZZ_CHECK(!Unusable(x));
  CheckCanonical(*n);
  absl::StatusOr<std::string> twice = NormalizePath(*n);
  FUZZ_CHECK(twice.ok() && *twice == *n);
  FUZZ_CHECK(IsNormalizedPath(x) == (*n == x));
  CheckDecomposition(*n);
  // What "..", "." and a name appended to x do, relative to Normalize(x).
  const std::string s(x);
  FUZZ_CHECK(*NormalizePath(s + "/..") == SplitPath(*n).parent);
  FUZZ_CHECK(*NormalizePath(s + "/./") == *n);
  FUZZ_CHECK(*NormalizePath(s + "//b") == JoinPath(*n, "b"));
}

void CheckResolve(absl::string_view root, absl::string_view x) {
  absl::StatusOr<std::string> r = ResolveBeneath(root, x);
  if (Unusable(x)) {
    FUZZ_CHECK(absl::IsInvalidArgument(r.status()));
    return;
  }
  if (!r.ok()) {
    FUZZ_CHECK(absl::IsPermissionDenied(r.status()));
    FUZZ_CHECK(absl::StrContains(x, ".."));
    return;
  }
  CheckCanonical(*r);
  FUZZ_CHECK(IsBeneath(root, *r));
  // No clamping happened, so it is the root joined with Normalize(x).
  const std::string n = *NormalizePath(x);
  FUZZ_CHECK(*r == (n == "/" ? std::string(root) : JoinPath(root, n)));
  // One more ".." climbs to the parent, or is refused at the root.
  absl::StatusOr<std::string> up = ResolveBeneath(root, absl::StrCat(x, "/.."));
  if (*r == root) {
    FUZZ_CHECK(absl::IsPermissionDenied(up.status()));
  } else {
    FUZZ_CHECK(up.ok() && *up == SplitPath(*r).parent);
  }
}

void CheckIsBeneath(absl::string_view root, const std::string& p) {
  const bool prefix =
      root == "/" || p == root || absl::StartsWith(p, absl::StrCat(root, "/"));
  FUZZ_CHECK(IsBeneath(root, p) == prefix);
}

}  // namespace
}  // namespace sftpgate

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sftpgate;  // NOLINT: fuzz entry point
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  absl::string_view root = "/srv/u";
  absl::string_view path = input;
  const size_t newline = input.find('\n');
  if (newline != absl::string_view::npos) {
    if (IsNormalizedPath(input.substr(0, newline))) {
      root = input.substr(0, newline);
    }
    path = input.substr(newline + 1);
  }
  CheckUtf8(input);
  CheckNormalize(input);
  CheckNormalize(path);
  CheckResolve(root, path);
  CheckResolve("/", path);
  absl::StatusOr<std::string> n = NormalizePath(path);
  if (n.ok()) CheckIsBeneath(root, *n);
  // A normalized root is also a valid session path of its own.
  CheckNormalize(root);
  return 0;
}
