// Lexical path helpers shared by the SDK, the front end and backends.
//
// Vocabulary: a *normalized* path is absolute and canonical: it starts with
// "/", has no empty, "." or ".." components, no trailing "/" (except "/"
// itself) and no NUL byte. Every path on the wire (backend.proto) is
// normalized and in the *session's view*, where "/" is Session.root.
//
// These functions are purely lexical: they never touch a filesystem and do
// not know about symlinks. A backend that follows symlinks must confine the
// result of each link itself (see ResolveBeneath).
//
// Thread safety: all functions are pure and safe to call concurrently.
// This library has no gRPC dependency (the front end and fuzzers link it).

#ifndef SFTPGATE_PATHS_H_
#define SFTPGATE_PATHS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate {

// Returns the normalized form of `path`. A relative path (including "") is
// taken relative to "/". Repeated "/" and "." components collapse; ".."
// removes the previous component, and ".." at the root stays at the root
// (as inside a chroot), so the result never leaves "/".
// INVALID_ARGUMENT if `path` contains a NUL byte or is not valid UTF-8
// (paths travel in the contract's `string` fields, which carry UTF-8 only).
//   NormalizePath("a//b/./c/..") == "/a/b";  NormalizePath("/../x") == "/x"
absl::StatusOr<std::string> NormalizePath(absl::string_view path);

// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), as protobuf requires of `string`
// fields.
bool IsValidUtf8(absl::string_view text);

// True when `path` is already normalized (NormalizePath would return it
// unchanged and it is absolute; so also valid UTF-8). Cheap: no
// allocation.
bool IsNormalizedPath(absl::string_view path);

// Appends `name` to `dir` with exactly one "/" between them:
// JoinPath("/", "a") == "/a", JoinPath("/a", "b/c") == "/a/b/c".
// An empty `name` returns `dir`. Purely textual: it does not normalize, so
// callers pass a normalized `dir` and a relative `name` (a leading "/" in
// `name` is dropped, never treated as a new root).
std::string JoinPath(absl::string_view dir, absl::string_view name);

// The parent directory and last component of a normalized path:
// "/a/b" -> {"/a", "b"}, "/a" -> {"/", "a"}, "/" -> {"/", ""}.
struct PathParts {
  std::string parent;
  std::string base;
};
PathParts SplitPath(absl::string_view normalized_path);

// The components of a normalized path: "/a/b" -> {"a", "b"}; "/" -> {}.
std::vector<std::string> PathComponents(absl::string_view normalized_path);

// True when normalized `path` is `root` or lies beneath it, compared
// component-wise ("/ab" is not beneath "/a"). Both must be normalized;
// every absolute path is beneath "/".
bool IsBeneath(absl::string_view root, absl::string_view path);

// Maps a session path to the backend's own namespace: `root` (normalized,
// e.g. "/srv/data/alice") joined with `session_path` (absolute or
// relative to the session's "/"). Unlike NormalizePath, a ".." that would
// climb above the session's "/" is refused with PERMISSION_DENIED rather
// than clamped. INVALID_ARGUMENT if `root` is not normalized or either
// contains NUL.
//   ResolveBeneath("/srv/u", "/a/../b") == "/srv/u/b"
//   ResolveBeneath("/srv/u", "/../v")   -> PERMISSION_DENIED
absl::StatusOr<std::string> ResolveBeneath(absl::string_view root,
                                           absl::string_view session_path);

// True when `name` can be one directory entry: non-empty, not "." or "..",
// and free of "/" and NUL.
bool IsValidName(absl::string_view name);

}  // namespace sftpgate

#endif  // SFTPGATE_PATHS_H_
