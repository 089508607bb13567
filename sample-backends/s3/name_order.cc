#include "name_order.h"

namespace sftpgate::s3 {
namespace {

// The relative key a listing must reach before `name` can go out: "D/"
// for the shortest proper prefix D of `name` followed by a byte below
// '/', else the name itself (nothing can come before it any more).
std::string ReleaseKey(absl::string_view name) {
  for (size_t i = 1; i < name.size(); ++i) {
    if (static_cast<unsigned char>(name[i]) < '/') {
      return std::string(name.substr(0, i)) + "/";
    }
  }
  return std::string(name);
}

}  // namespace

absl::Status NameOrderer::Add(std::string relative_key, DirEntry entry) {
  std::string name = entry.name();
  held_.emplace(std::move(name),
                std::make_pair(ReleaseKey(entry.name()), std::move(entry)));
  return Release(relative_key);
}

absl::Status NameOrderer::Release(absl::string_view position) {
  while (!held_.empty() && held_.begin()->second.first <= position) {
    DirEntry entry = std::move(held_.begin()->second.second);
    held_.erase(held_.begin());
    if (absl::Status status = sink_(std::move(entry)); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status NameOrderer::Finish() {
  for (auto& [name, held] : held_) {
    if (absl::Status status = sink_(std::move(held.second)); !status.ok()) {
      return status;
    }
  }
  held_.clear();
  return absl::OkStatus();
}

}  // namespace sftpgate::s3
