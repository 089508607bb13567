// Small helpers shared by the TOML loaders (settings, users): reading a
// file with a clear error, parsing with file:line messages, and naming the
// place of a node in messages.
//
// Thread-compatible (no shared state).

#ifndef SFTPGATE_SERVER_CONFIG_TOML_UTIL_H_
#define SFTPGATE_SERVER_CONFIG_TOML_UTIL_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "toml++/toml.h"

namespace sftpgate::server {

// Reads a whole file; the error names `what` ("users file"), the path and
// the system's reason.
absl::StatusOr<std::string> ReadTextFile(const std::string& path,
                                         absl::string_view what);

// Parses TOML text. A syntax error becomes "SOURCE:LINE:COL: description".
absl::StatusOr<toml::table> ParseToml(absl::string_view text,
                                      absl::string_view source);

// "SOURCE:LINE" for a node that has a source position, else "SOURCE".
std::string Where(absl::string_view source, const toml::node& node);

// Key as written, with '-' folded to '_' so that both spellings work.
std::string CanonicalKey(absl::string_view key);

// absl::string_view is not std::string_view in this abseil build.
inline absl::string_view ToAbsl(std::string_view view) {
  return absl::string_view(view.data(), view.size());
}

// Human name of a node's type for "expected a string, got an integer".
const char* TomlTypeName(const toml::node& node);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_CONFIG_TOML_UTIL_H_
