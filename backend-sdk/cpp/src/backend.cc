// Default implementations of the optional Backend operations.

#include "sftpgate/backend.h"

#include "absl/strings/str_cat.h"

namespace sftpgate {
namespace {

absl::Status NotServed(absl::string_view what) {
  return absl::UnimplementedError(
      absl::StrCat(what, " is not supported by this backend"));
}

}  // namespace

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

absl::Status Backend::SetStatNoFollow(const Session&, absl::string_view,
                                      const Attributes&) {
  return NotServed("setstat on a symlink");
}

}  // namespace sftpgate
