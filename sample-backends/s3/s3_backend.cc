#include "s3_backend.h"

#include <cstdlib>
#include <map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "name_order.h"
#include "object_reader.h"
#include "object_writer.h"
#include "sftpgate/attributes.h"
#include "sftpgate/paths.h"

namespace sftpgate::s3 {
namespace {

constexpr size_t kMaxKeyLength = 1024;  // S3's limit, in bytes
constexpr int kListPage = 1000;

uint32_t ModeFrom(const Headers& metadata, uint32_t fallback) {
  auto it = metadata.find("mode");
  if (it == metadata.end() || it->second.empty()) return fallback;
  char* end = nullptr;
  const unsigned long mode = std::strtoul(it->second.c_str(), &end, 8);
  return *end == '\0' ? static_cast<uint32_t>(mode) & kModePermissionMask
                      : fallback;
}

// A time kept in metadata `name`, else `fallback`.
int64_t TimeFrom(const ObjectInfo& info, const char* name, int64_t fallback) {
  auto it = info.metadata.find(name);
  int64_t t = 0;
  if (it != info.metadata.end() && absl::SimpleAtoi(it->second, &t)) return t;
  return fallback;
}

int64_t MtimeFrom(const ObjectInfo& info) {
  return TimeFrom(info, "mtime", info.last_modified);
}

std::string Octal(uint32_t mode) { return absl::StrFormat("%o", mode); }

absl::Status ReadOnly(const Session& session) {
  if (session.read_only()) {
    return absl::PermissionDeniedError("read-only session");
  }
  return absl::OkStatus();
}

}  // namespace

S3Backend::S3Backend(S3Client* client, UploadJournal* journal,
                     BackendOptions options)
    : client_(client), journal_(journal), options_(std::move(options)) {}

absl::StatusOr<S3Backend::Location> S3Backend::Locate(
    const Session& session, absl::string_view path) const {
  absl::StatusOr<std::string> normalized = NormalizePath(path);
  if (!normalized.ok()) return normalized.status();
  const std::string root = session.root().empty() ? "/" : session.root();
  absl::StatusOr<std::string> resolved = ResolveBeneath(root, *normalized);
  if (!resolved.ok()) return resolved.status();
  Location location;
  location.path = *std::move(normalized);
  location.root = location.path == "/";
  const std::string relative = resolved->substr(1);  // drop the leading "/"
  const std::vector<std::string> parts = PathComponents(*resolved);
  if (!parts.empty() && parts[0] == kJournalDirName) {
    return absl::PermissionDeniedError(
        absl::StrCat(kJournalDirName, " is reserved for the backend"));
  }
  if (relative.empty()) {
    location.folder = options_.prefix;
  } else {
    location.key = absl::StrCat(options_.prefix, relative);
    location.folder = location.key + "/";
  }
  if (location.folder.size() > kMaxKeyLength) {
    return absl::InvalidArgumentError("path too long for an S3 key");
  }
  return location;
}

S3Backend::Location S3Backend::Parent(const Session& session,
                                      const Location& location) const {
  // The parent of a located path always locates.
  return *Locate(session, SplitPath(location.path).parent);
}

absl::StatusOr<S3Backend::Node> S3Backend::Lookup(const Location& location) {
  Node node;
  if (location.root) {
    node.kind = Kind::kDirectory;
    return node;
  }
  absl::StatusOr<ObjectInfo> info = client_->Head(location.key);
  if (info.ok()) {
    node.kind = Kind::kFile;
    node.info = *std::move(info);
    return node;
  }
  if (!absl::IsNotFound(info.status())) return info.status();
  info = client_->Head(location.folder);
  if (info.ok()) {
    node.kind = Kind::kDirectory;
    node.marker = true;
    node.info = *std::move(info);
    return node;
  }
  if (!absl::IsNotFound(info.status())) return info.status();
  absl::StatusOr<ListPage> page = client_->List(location.folder, false, "", 1);
  if (!page.ok()) return page.status();
  if (!page->objects.empty()) node.kind = Kind::kDirectory;
  return node;
}

absl::StatusOr<bool> S3Backend::IsDirectory(const Location& location) {
  if (location.root) return true;
  // The marker, if any, is listed too: one request either way.
  absl::StatusOr<ListPage> page = client_->List(location.folder, false, "", 1);
  if (!page.ok()) return page.status();
  return !page->objects.empty();
}

absl::StatusOr<S3Backend::Node> S3Backend::Probe(const Location& location) {
  Node node;
  if (!location.root) {
    absl::StatusOr<ObjectInfo> info = client_->Head(location.key);
    if (info.ok()) {
      node.kind = Kind::kFile;
      node.info = *std::move(info);
      return node;
    }
    if (!absl::IsNotFound(info.status())) return info.status();
  }
  absl::StatusOr<bool> directory = IsDirectory(location);
  if (!directory.ok()) return directory.status();
  if (*directory) node.kind = Kind::kDirectory;
  return node;
}

absl::Status S3Backend::RequireParent(const Session& session,
                                      const Location& location) {
  const Location parent = Parent(session, location);
  absl::StatusOr<bool> directory = IsDirectory(parent);
  if (!directory.ok()) return directory.status();
  if (*directory) return absl::OkStatus();
  absl::StatusOr<ObjectInfo> file = client_->Head(parent.key);
  if (file.ok()) {
    return absl::FailedPreconditionError("parent is not a directory");
  }
  if (!absl::IsNotFound(file.status())) return file.status();
  return absl::NotFoundError("parent directory does not exist");
}

absl::StatusOr<bool> S3Backend::HasChildren(const std::string& folder) {
  absl::StatusOr<ListPage> page = client_->List(folder, false, "", 2);
  if (!page.ok()) return page.status();
  for (const ListedObject& object : page->objects) {
    if (object.key != folder) return true;
  }
  return false;
}

void S3Backend::KeepParent(const Session& session, const Location& location) {
  const Location parent = Parent(session, location);
  if (parent.root) return;  // the session's root always exists
  absl::StatusOr<ListPage> page = client_->List(parent.folder, false, "", 1);
  if (page.ok() && page->objects.empty()) {
    client_->Put(parent.folder, "", {}).IgnoreError();
  }
}

Attributes S3Backend::AttributesOf(const Node& node) const {
  Attributes attributes =
      node.kind == Kind::kDirectory
          ? MakeDirectoryAttributes(
                ModeFrom(node.info.metadata, kDefaultDirectoryPermissions),
                MtimeFrom(node.info))
          : MakeFileAttributes(
                node.info.size,
                ModeFrom(node.info.metadata, kDefaultFilePermissions),
                MtimeFrom(node.info));
  attributes.set_atime(TimeFrom(node.info, "atime", attributes.mtime()));
  return attributes;
}

absl::StatusOr<Attributes> S3Backend::Stat(const Session& session,
                                           absl::string_view path,
                                           bool /*follow_symlinks*/) {
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  absl::StatusOr<Node> node = Lookup(*location);
  if (!node.ok()) return node.status();
  if (node->kind == Kind::kMissing) return absl::NotFoundError("no such file");
  return AttributesOf(*node);
}

absl::Status S3Backend::MakeDir(const Session& session, absl::string_view path,
                                const Attributes& attributes) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  if (location->root) return absl::AlreadyExistsError("directory exists");
  if (absl::Status status = RequireParent(session, *location); !status.ok()) {
    return status;
  }
  absl::StatusOr<Node> node = Probe(*location);
  if (!node.ok()) return node.status();
  if (node->kind != Kind::kMissing) return absl::AlreadyExistsError("exists");
  return client_->Put(
      location->folder, "",
      MetadataHeaders(
          {{"mode",
            Octal(PermissionsOr(attributes, kDefaultDirectoryPermissions))}}));
}

absl::Status S3Backend::RemoveDir(const Session& session,
                                  absl::string_view path) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  if (location->root) {
    return absl::PermissionDeniedError("cannot remove the root directory");
  }
  absl::StatusOr<Node> node = Probe(*location);
  if (!node.ok()) return node.status();
  if (node->kind == Kind::kMissing) return absl::NotFoundError("no such file");
  if (node->kind == Kind::kFile) {
    return absl::FailedPreconditionError("not a directory");
  }
  absl::StatusOr<bool> children = HasChildren(location->folder);
  if (!children.ok()) return children.status();
  if (*children) return absl::FailedPreconditionError("directory not empty");
  if (absl::Status status = client_->Delete(location->folder); !status.ok()) {
    return status;
  }
  KeepParent(session, *location);
  return absl::OkStatus();
}

absl::Status S3Backend::Remove(const Session& session, absl::string_view path) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  absl::StatusOr<Node> node = Probe(*location);
  if (!node.ok()) return node.status();
  if (node->kind == Kind::kMissing) return absl::NotFoundError("no such file");
  if (node->kind == Kind::kDirectory) {
    return absl::FailedPreconditionError("is a directory");
  }
  if (absl::Status status = client_->Delete(location->key); !status.ok()) {
    return status;
  }
  KeepParent(session, *location);
  return absl::OkStatus();
}

absl::Status S3Backend::CopyObject(const std::string& from,
                                   const std::string& to, uint64_t size,
                                   const Headers& metadata) {
  if (size <= kMaxCopyPart) return client_->Copy(from, to, &metadata);
  ObjectWriter::Plan plan;
  plan.key = to;
  plan.metadata = metadata;
  plan.base_key = from;
  plan.base_keep = size;
  plan.part_size = options_.part_size;
  ObjectWriter writer(client_, journal_, std::move(plan));
  absl::StatusOr<uint64_t> copied = writer.Commit();
  return copied.status();
}

absl::Status S3Backend::RenameDirectory(const Location& from,
                                        const Location& to) {
  std::vector<ListedObject> objects;
  std::string token;
  do {
    absl::StatusOr<ListPage> page =
        client_->List(from.folder, false, token, kListPage);
    if (!page.ok()) return page.status();
    for (ListedObject& object : page->objects) {
      objects.push_back(std::move(object));
    }
    if (objects.size() > static_cast<size_t>(options_.max_rename_keys)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "directory holds more than ", options_.max_rename_keys,
          " objects: renaming it on S3 copies each one (--max_rename_keys)"));
    }
    token = page->next_continuation_token;
  } while (!token.empty());
  // Copy everything first, then delete: a failure part-way leaves both
  // trees, never a partial one in place of the original.
  for (const ListedObject& object : objects) {
    const std::string target =
        to.folder + object.key.substr(from.folder.size());
    absl::Status status;
    if (object.size <= kMaxCopyPart) {
      status = client_->Copy(object.key, target, nullptr);
    } else {
      absl::StatusOr<ObjectInfo> info = client_->Head(object.key);
      status = info.ok()
                   ? CopyObject(object.key, target, object.size, info->metadata)
                   : info.status();
    }
    if (!status.ok()) return status;
  }
  for (const ListedObject& object : objects) {
    if (absl::Status status = client_->Delete(object.key); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

absl::Status S3Backend::Rename(const Session& session, absl::string_view from,
                               absl::string_view to, bool overwrite) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> source = Locate(session, from);
  if (!source.ok()) return source.status();
  absl::StatusOr<Location> target = Locate(session, to);
  if (!target.ok()) return target.status();
  if (source->root) {
    return absl::PermissionDeniedError("cannot rename the root directory");
  }
  absl::StatusOr<Node> node = Probe(*source);
  if (!node.ok()) return node.status();
  if (node->kind == Kind::kMissing) return absl::NotFoundError("no such file");
  if (source->path == target->path) return absl::OkStatus();
  if (target->root) {
    return overwrite ? absl::FailedPreconditionError("target is the root")
                     : absl::AlreadyExistsError("target exists");
  }
  if (absl::Status status = RequireParent(session, *target); !status.ok()) {
    return status;
  }
  const bool directory = node->kind == Kind::kDirectory;
  if (directory && IsBeneath(source->path, target->path)) {
    return absl::InvalidArgumentError("cannot move a directory beneath itself");
  }
  absl::StatusOr<Node> existing = Probe(*target);
  if (!existing.ok()) return existing.status();
  if (existing->kind != Kind::kMissing) {
    if (!overwrite) return absl::AlreadyExistsError("target exists");
    if ((existing->kind == Kind::kDirectory) != directory) {
      return absl::FailedPreconditionError(
          directory ? "target is not a directory" : "target is a directory");
    }
    if (directory) {
      absl::StatusOr<bool> children = HasChildren(target->folder);
      if (!children.ok()) return children.status();
      if (*children) {
        return absl::FailedPreconditionError("target directory not empty");
      }
    }
  }
  absl::Status status;
  if (directory) {
    status = RenameDirectory(*source, *target);
  } else {
    status = CopyObject(source->key, target->key, node->info.size,
                        node->info.metadata);
    if (status.ok()) status = client_->Delete(source->key);
  }
  if (!status.ok()) return status;
  KeepParent(session, *source);
  return absl::OkStatus();
}

absl::Status S3Backend::SetStat(const Session& session, absl::string_view path,
                                const Attributes& attributes) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  absl::StatusOr<Node> node = Lookup(*location);
  if (!node.ok()) return node.status();
  if (node->kind == Kind::kMissing) return absl::NotFoundError("no such file");
  if (options_.strict_setstat &&
      (attributes.has_uid() || attributes.has_gid())) {
    return absl::UnimplementedError("S3 keeps no file owner or group");
  }
  Headers metadata = node->info.metadata;
  if (attributes.has_mode()) {
    metadata["mode"] = Octal(attributes.mode() & kModePermissionMask);
  }
  if (attributes.has_mtime()) {
    metadata["mtime"] = absl::StrCat(attributes.mtime());
  }
  if (attributes.has_atime()) {
    metadata["atime"] = absl::StrCat(attributes.atime());
  }
  const bool new_metadata =
      attributes.has_mode() || attributes.has_mtime() || attributes.has_atime();
  if (node->kind == Kind::kDirectory) {
    if (attributes.has_size()) {
      return absl::FailedPreconditionError("is a directory");
    }
    // The root has no marker of its own to carry metadata.
    if (!new_metadata || location->root) return absl::OkStatus();
    return client_->Put(location->folder, "", MetadataHeaders(metadata));
  }
  if (attributes.has_size() && attributes.size() != node->info.size) {
    ObjectWriter::Plan plan;
    plan.key = location->key;
    plan.metadata = metadata;
    plan.base_key = location->key;
    plan.base_keep = node->info.size;
    plan.final_size = attributes.size();
    plan.part_size = options_.part_size;
    ObjectWriter writer(client_, journal_, std::move(plan));
    return writer.Commit().status();
  }
  if (!new_metadata) return absl::OkStatus();
  return CopyObject(location->key, location->key, node->info.size, metadata);
}

absl::Status S3Backend::ListDir(const Session& session, absl::string_view path,
                                const DirEntrySink& sink) {
  return S3Backend::ListDirAfter(session, path, "", sink);
}

absl::Status S3Backend::ListDirAfter(const Session& session,
                                     absl::string_view path,
                                     absl::string_view start_after,
                                     const DirEntrySink& sink) {
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  const bool at_prefix_root = location->folder == options_.prefix;
  // Keys after folder + start_after hold every name after start_after
  // (and the directory start_after itself, dropped below).
  const std::string start_key =
      start_after.empty() ? "" : absl::StrCat(location->folder, start_after);
  NameOrderer ordered(sink);
  // One page's objects and directories, merged back into key order.
  std::map<std::string, DirEntry> page_entries;
  std::string token;
  bool first_page = true;
  do {
    absl::StatusOr<ListPage> page =
        client_->List(location->folder, true, token, kListPage, start_key);
    if (!page.ok()) return page.status();
    if (first_page && start_after.empty() && !location->root &&
        page->objects.empty() && page->prefixes.empty()) {
      // Nothing beneath it (not even a marker): a file or nothing.
      absl::StatusOr<ObjectInfo> file = client_->Head(location->key);
      if (file.ok()) return absl::FailedPreconditionError("not a directory");
      if (!absl::IsNotFound(file.status())) return file.status();
      return absl::NotFoundError("no such directory");
    }
    first_page = false;
    for (const ListedObject& object : page->objects) {
      std::string name = object.key.substr(location->folder.size());
      if (!IsValidName(name)) continue;  // the marker itself, or "a//b"
      DirEntry entry;
      entry.set_name(name);
      *entry.mutable_attributes() = MakeFileAttributes(
          object.size, kDefaultFilePermissions, object.last_modified);
      page_entries.emplace(std::move(name), std::move(entry));
    }
    for (const std::string& prefix : page->prefixes) {
      std::string name = prefix.substr(location->folder.size());
      if (!name.empty() && name.back() == '/') name.pop_back();
      if (!IsValidName(name)) continue;
      if (at_prefix_root && name == kJournalDirName) continue;
      DirEntry entry;
      entry.set_name(name);
      // A listing has no marker metadata: the mtime is left unknown.
      *entry.mutable_attributes() =
          MakeDirectoryAttributes(kDefaultDirectoryPermissions, 0);
      entry.mutable_attributes()->clear_mtime();
      page_entries.emplace(name + "/", std::move(entry));
    }
    for (auto& [key, entry] : page_entries) {
      if (absl::string_view(entry.name()) <= start_after) continue;
      if (absl::Status status = ordered.Add(key, std::move(entry));
          !status.ok()) {
        return status;
      }
    }
    page_entries.clear();
    token = page->next_continuation_token;
  } while (!token.empty());
  return ordered.Finish();
}

absl::StatusOr<std::unique_ptr<FileReader>> S3Backend::OpenRead(
    const Session& session, absl::string_view path, uint64_t offset) {
  absl::StatusOr<Location> location = Locate(session, path);
  if (!location.ok()) return location.status();
  if (location->root) return absl::FailedPreconditionError("is a directory");
  absl::StatusOr<ObjectInfo> info = client_->Head(location->key);
  if (!info.ok()) {
    if (!absl::IsNotFound(info.status())) return info.status();
    absl::StatusOr<bool> directory = IsDirectory(*location);
    if (!directory.ok()) return directory.status();
    if (*directory) return absl::FailedPreconditionError("is a directory");
    return absl::NotFoundError("no such file");
  }
  return std::make_unique<ObjectReader>(client_, location->key, offset,
                                        info->size, options_.read_buffer);
}

absl::StatusOr<std::unique_ptr<FileWriter>> S3Backend::OpenWrite(
    const Session& session, const WriteHeader& header) {
  if (absl::Status status = ReadOnly(session); !status.ok()) return status;
  absl::StatusOr<Location> location = Locate(session, header.path());
  if (!location.ok()) return location.status();
  if (location->root) return absl::FailedPreconditionError("is a directory");
  const uint32_t flags = header.flags();
  ObjectWriter::Plan plan;
  plan.key = location->key;
  plan.first_offset = header.offset();
  plan.append = (flags & WriteHeader::FLAG_APPEND) != 0;
  plan.part_size = options_.part_size;
  absl::StatusOr<ObjectInfo> info = client_->Head(location->key);
  if (info.ok()) {
    if (flags & WriteHeader::FLAG_EXCLUSIVE) {
      return absl::AlreadyExistsError("file exists");
    }
    plan.metadata = info->metadata;
    // New contents: Last-Modified is the file's time again.
    plan.metadata.erase("mtime");
    plan.metadata.erase("atime");
    if (!(flags & WriteHeader::FLAG_TRUNCATE)) {
      plan.base_key = location->key;
      plan.base_keep = info->size;
      plan.unchanged_if_unwritten = true;
    }
  } else {
    if (!absl::IsNotFound(info.status())) return info.status();
    absl::StatusOr<bool> directory = IsDirectory(*location);
    if (!directory.ok()) return directory.status();
    if (*directory) return absl::FailedPreconditionError("is a directory");
    if (!(flags & WriteHeader::FLAG_CREATE)) {
      return absl::NotFoundError("no such file");
    }
    if (absl::Status status = RequireParent(session, *location); !status.ok()) {
      return status;
    }
    plan.metadata["mode"] =
        Octal(PermissionsOr(header.attributes(), kDefaultFilePermissions));
  }
  return std::make_unique<ObjectWriter>(client_, journal_, std::move(plan));
}

}  // namespace sftpgate::s3
