#include "sftpgate/paths.h"

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sftpgate {
namespace {

enum class DotDot { kClampAtRoot, kRefuseAboveRoot };

// Splits `path` into canonical components, applying "." and "..". The
// views point into `path`.
absl::StatusOr<std::vector<absl::string_view>> Collapse(absl::string_view path,
                                                        DotDot dotdot) {
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("path contains a NUL byte");
  }
  if (!IsValidUtf8(path)) {
    return absl::InvalidArgumentError("path is not valid UTF-8");
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) {
        parts.pop_back();
      } else if (dotdot == DotDot::kRefuseAboveRoot) {
        return absl::PermissionDeniedError("path leaves the root");
      }
      continue;
    }
    parts.push_back(part);
  }
  return parts;
}

std::string AbsoluteFrom(const std::vector<absl::string_view>& parts) {
  return "/" + absl::StrJoin(parts, "/");
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const unsigned char* const end = p + text.size();
  while (p < end) {
    const unsigned char lead = *p++;
    if (lead < 0x80) continue;
    // The sequence length and the range its first continuation byte may
    // take: the narrower ranges exclude overlong forms (E0, F0), UTF-16
    // surrogates (ED) and code points above U+10FFFF (F4).
    int continuations;
    unsigned char low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      continuations = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      continuations = 2;
      if (lead == 0xE0) low = 0xA0;
      if (lead == 0xED) high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      continuations = 3;
      if (lead == 0xF0) low = 0x90;
      if (lead == 0xF4) high = 0x8F;
    } else {
      return false;  // a continuation byte, C0/C1 (overlong) or F5..FF
    }
    if (end - p < continuations || *p < low || *p > high) return false;
    ++p;
    for (int i = 1; i < continuations; ++i, ++p) {
      if (*p < 0x80 || *p > 0xBF) return false;
    }
  }
  return true;
}

absl::StatusOr<std::string> NormalizePath(absl::string_view path) {
  absl::StatusOr<std::vector<absl::string_view>> parts =
      Collapse(path, DotDot::kClampAtRoot);
  if (!parts.ok()) return parts.status();
  return AbsoluteFrom(*parts);
}

bool IsNormalizedPath(absl::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  // Every component after a "/" must be a valid name.
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == absl::string_view::npos) end = path.size();
    if (!IsValidName(path.substr(start, end - start))) return false;
    start = end + 1;
  }
  return IsValidUtf8(path);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  if (name.empty()) return std::string(dir);
  std::string out(dir);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name.data(), name.size());
  return out;
}

PathParts SplitPath(absl::string_view normalized_path) {
  size_t slash = normalized_path.rfind('/');
  if (slash == absl::string_view::npos) {
    return {"/", std::string(normalized_path)};
  }
  std::string parent(normalized_path.substr(0, slash));
  if (parent.empty()) parent = "/";
  return {parent, std::string(normalized_path.substr(slash + 1))};
}

std::vector<std::string> PathComponents(absl::string_view normalized_path) {
  return absl::StrSplit(normalized_path, '/', absl::SkipEmpty());
}

bool IsBeneath(absl::string_view root, absl::string_view path) {
  if (root == "/") return !path.empty() && path[0] == '/';
  if (path.size() < root.size() || path.substr(0, root.size()) != root) {
    return false;
  }
  return path.size() == root.size() || path[root.size()] == '/';
}

absl::StatusOr<std::string> ResolveBeneath(absl::string_view root,
                                           absl::string_view session_path) {
  if (!IsNormalizedPath(root)) {
    return absl::InvalidArgumentError("root is not a normalized path");
  }
  absl::StatusOr<std::vector<absl::string_view>> parts =
      Collapse(session_path, DotDot::kRefuseAboveRoot);
  if (!parts.ok()) return parts.status();
  std::string out = JoinPath(root, absl::StrJoin(*parts, "/"));
  // Cannot fail given the checks above; kept as the final guard.
  if (!IsBeneath(root, out)) {
    return absl::PermissionDeniedError("path leaves the root");
  }
  return out;
}

bool IsValidName(absl::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == absl::string_view::npos &&
         name.find('\0') == absl::string_view::npos;
}

}  // namespace sftpgate
