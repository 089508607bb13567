// Default implementations of the optional Backend operations, and of
// ListDirAfter on top of ListDir.

#include "sftpgate/backend.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate {
namespace {

absl::Status NotServed(absl::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat(what, " is not supported by this backend"));
}

}  // namespace

absl::Status Backend::ListDirAfter(const Session& session,
                                   absl::string_view path,
                                   absl::string_view start_after,
                                   const DirEntrySink& sink) {
  if (start_after.empty()) return ListDir(session, path, sink);
  return ListDir(session, path, [&](DirEntry entry) -> absl::Status {
    if (absl::string_view(entry.name()) <= start_after) {
      return absl::OkStatus();
    }
    return sink(std::move(entry));
  });
}

absl::Status Backend::Symlink(const Session&, absl::string_view,
                              absl::string_view) {
  return NotServed("symlink");
}

absl::StatusOr<std::string> Backend::ReadLink(const Session&,
                                              absl::string_view) {
  return NotServed("readlink");
}

absl::Status Backend::Link(const Session&, absl::string_view,
                           absl::string_view) {
  return NotServed("hard link");
}

absl::StatusOr<std::string> Backend::RealPath(const Session&,
                                              absl::string_view) {
  return NotServed("realpath");
}

absl::StatusOr<StatFsInfo> Backend::StatFs(const Session&, absl::string_view) {
  return NotServed("statfs");
}

absl::StatusOr<UsageInfo> Backend::Usage(const Session&) {
  return NotServed("usage");
}

absl::StatusOr<std::vector<std::string>> Backend::Hash(const Session&,
                                                       const HashRequest&) {
  return NotServed("hash");
}

absl::Status Backend::SetStatNoFollow(const Session&, absl::string_view,
                                      const Attributes&) {
  return NotServed("setstat on a symlink");
}

}  // namespace sftpgate
