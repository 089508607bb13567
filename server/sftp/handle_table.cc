#include "server/sftp/handle_table.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace sftpgate::server::sftp {

Handle* HandleTable::Insert(Map& into, std::unique_ptr<Handle> handle) {
  if (full()) return nullptr;
  handle->id = absl::StrCat(next_id_++);
  Handle* raw = handle.get();
  into.emplace(raw->id, std::move(handle));
  return raw;
}

Handle* HandleTable::Add(std::unique_ptr<Handle> handle) {
  return Insert(open_, std::move(handle));
}

Handle* HandleTable::AddOpening(std::unique_ptr<Handle> handle) {
  return Insert(opening_, std::move(handle));
}

void HandleTable::FinishOpening(absl::string_view id) {
  auto node = opening_.extract(id);
  if (!node.empty()) open_.insert(std::move(node));
}

void HandleTable::DropOpening(absl::string_view id) {
  auto node = opening_.extract(id);
  if (!node.empty()) closing_.insert(std::move(node));
}

Handle* HandleTable::Find(absl::string_view id) {
  auto it = open_.find(id);
  return it == open_.end() ? nullptr : it->second.get();
}

Handle* HandleTable::BeginClose(absl::string_view id) {
  auto node = open_.extract(id);
  if (node.empty()) return nullptr;
  Handle* raw = node.mapped().get();
  closing_.insert(std::move(node));
  return raw;
}

Handle* HandleTable::FindClosing(absl::string_view id) {
  auto it = closing_.find(id);
  return it == closing_.end() ? nullptr : it->second.get();
}

void HandleTable::Release(absl::string_view id) { closing_.erase(id); }

std::vector<Handle*> HandleTable::All() {
  std::vector<Handle*> all;
  all.reserve(open_.size() + opening_.size() + closing_.size());
  for (auto& [id, h] : open_) all.push_back(h.get());
  for (auto& [id, h] : opening_) all.push_back(h.get());
  for (auto& [id, h] : closing_) all.push_back(h.get());
  return all;
}

std::vector<std::unique_ptr<Handle>> HandleTable::TakeAll() {
  std::vector<std::unique_ptr<Handle>> all;
  for (auto& [id, h] : open_) all.push_back(std::move(h));
  for (auto& [id, h] : opening_) all.push_back(std::move(h));
  for (auto& [id, h] : closing_) all.push_back(std::move(h));
  open_.clear();
  opening_.clear();
  closing_.clear();
  return all;
}

}  // namespace sftpgate::server::sftp
