#include "server/config/users.h"

#include <libssh/libssh.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/config/password_hash.h"
#include "server/config/toml_util.h"
#include "sftpgate/paths.h"

namespace sftpgate::server {
namespace {

// Collects the context ("users.toml:7: user \"alice\": ") for messages.
class UserErrors {
 public:
  UserErrors(absl::string_view source, std::string who)
      : source_(source), who_(std::move(who)) {}

  absl::Status Error(const toml::node& at, absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(source_, at), ": ", who_, ": ", message));
  }

 private:
  absl::string_view source_;
  std::string who_;
};

absl::Status CheckUserName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  if (name.size() > 255) {
    return absl::InvalidArgumentError("name is longer than 255 bytes");
  }
  for (char c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(
          "name contains a space or control character");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AuthorizedKey> ParseAuthorizedKey(absl::string_view line) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(line), absl::MaxSplits(' ', 2),
                     absl::SkipEmpty());
  if (parts.size() < 2) {
    return absl::InvalidArgumentError(
        "is not \"TYPE BASE64 [COMMENT]\" (e.g. a line of id_ed25519.pub)");
  }
  AuthorizedKey result;
  result.type = std::string(parts[0]);
  if (parts.size() == 3) {
    result.comment = std::string(absl::StripAsciiWhitespace(parts[2]));
  }
  if (absl::StrContains(result.type, "-cert-")) {
    return absl::InvalidArgumentError("certificates are not supported");
  }
  enum ssh_keytypes_e type = ssh_key_type_from_name(result.type.c_str());
  if (type == SSH_KEYTYPE_UNKNOWN) {
    return absl::InvalidArgumentError(
        absl::StrCat("has unknown key type \"", result.type,
                     "\" (options before the type are not supported)"));
  }
  ssh_key key = nullptr;
  std::string base64(parts[1]);
  if (absl::StrContains(base64, "...")) {
    return absl::InvalidArgumentError(
        "is a placeholder (\"...\"): paste the whole public key line, e.g. "
        "what `cat ~/.ssh/id_ed25519.pub` prints");
  }
  if (ssh_pki_import_pubkey_base64(base64.c_str(), type, &key) != SSH_OK ||
      key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("is not a valid ", result.type,
                     " public key (paste the whole line, e.g. what "
                     "`cat ~/.ssh/id_ed25519.pub` prints)"));
  }
  result.key = std::shared_ptr<ssh_key_struct>(key, ssh_key_free);
  if (ssh_key_type(key) != type) {
    return absl::InvalidArgumentError(
        absl::StrCat("holds a key that is not of type ", result.type));
  }
  return result;
}

absl::Status ReadString(const toml::node& node, absl::string_view key,
                        const UserErrors& errors, std::string* out) {
  const auto* value = node.as_string();
  if (value == nullptr) {
    return errors.Error(
        node, absl::StrCat(key, " must be a string, not ", TomlTypeName(node)));
  }
  *out = value->get();
  return absl::OkStatus();
}

// Fills `user` from one [[user]] table.
absl::Status ParseUser(const toml::table& table, const UserErrors& errors,
                       UserRecord* user) {
  bool has_name = false;
  for (const auto& [raw_key, node] : table) {
    const std::string key = CanonicalKey(ToAbsl(raw_key.str()));
    if (key == "name") {
      absl::Status status = ReadString(node, key, errors, &user->name);
      if (!status.ok()) return status;
      status = CheckUserName(user->name);
      if (!status.ok()) return errors.Error(node, status.message());
      has_name = true;
    } else if (key == "password_hash") {
      absl::Status status = ReadString(node, key, errors, &user->password_hash);
      if (!status.ok()) return status;
      status = CheckCryptHashFormat(user->password_hash);
      if (!status.ok()) {
        return errors.Error(node,
                            absl::StrCat("password_hash ", status.message()));
      }
    } else if (key == "authorized_keys") {
      const auto* array = node.as_array();
      if (array == nullptr) {
        return errors.Error(
            node, absl::StrCat("authorized_keys must be an array of strings, "
                               "not ",
                               TomlTypeName(node)));
      }
      for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& item = *array->get(i);
        const auto* line = item.as_string();
        std::string name = absl::StrCat("authorized_keys[", i, "]");
        if (line == nullptr) {
          return errors.Error(item,
                              absl::StrCat(name, " must be a string, not ",
                                           TomlTypeName(item)));
        }
        absl::StatusOr<AuthorizedKey> key_entry =
            ParseAuthorizedKey(line->get());
        if (!key_entry.ok()) {
          return errors.Error(
              item, absl::StrCat(name, " ", key_entry.status().message()));
        }
        user->authorized_keys.push_back(*std::move(key_entry));
      }
    } else if (key == "root") {
      std::string value;
      absl::Status status = ReadString(node, key, errors, &value);
      if (!status.ok()) return status;
      absl::StatusOr<std::string> root = NormalizeRoot(value);
      if (!root.ok()) {
        return errors.Error(node,
                            absl::StrCat("root ", root.status().message()));
      }
      user->root = *std::move(root);
    } else if (key == "read_only") {
      const auto* value = node.as_boolean();
      if (value == nullptr) {
        return errors.Error(
            node, absl::StrCat("read_only must be true or false, not ",
                               TomlTypeName(node)));
      }
      user->read_only = value->get();
    } else if (key == "tenant") {
      absl::Status status = ReadString(node, key, errors, &user->tenant);
      if (!status.ok()) return status;
    } else if (key == "quota_bytes" || key == "quota_files" ||
               key == "upload_kib_per_second" ||
               key == "download_kib_per_second") {
      const auto* value = node.as_integer();
      if (value == nullptr || value->get() < 0 ||
          value->get() > (int64_t{1} << 52)) {
        return errors.Error(
            node, absl::StrCat(key, " must be an integer from 0 to 2^52, not ",
                               value == nullptr ? TomlTypeName(node)
                                                : absl::StrCat(value->get())));
      }
      const uint64_t v = static_cast<uint64_t>(value->get());
      if (key == "quota_bytes") user->limits.quota_bytes = v;
      if (key == "quota_files") user->limits.quota_files = v;
      if (key == "upload_kib_per_second") {
        user->limits.upload_bytes_per_second = v * 1024;
      }
      if (key == "download_kib_per_second") {
        user->limits.download_bytes_per_second = v * 1024;
      }
    } else {
      return errors.Error(
          node, absl::StrCat("unknown key \"", ToAbsl(raw_key.str()),
                             "\" (known: name, password_hash, "
                             "authorized_keys, root, read_only, tenant, "
                             "quota_bytes, quota_files, "
                             "upload_kib_per_second, "
                             "download_kib_per_second)"));
    }
  }
  if (!has_name) return errors.Error(table, "has no name");
  if (user->password_hash.empty() && user->authorized_keys.empty()) {
    return errors.Error(table,
                        "has no credential: give password_hash and/or "
                        "authorized_keys");
  }
  return absl::OkStatus();
}

}  // namespace

const UserRecord* UserDb::Find(absl::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &users_[it->second];
}

absl::StatusOr<std::string> NormalizeRoot(absl::string_view root) {
  if (root.empty() || root.front() != '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        "must be an absolute path starting with '/' (got \"", root, "\")"));
  }
  // Roots travel to backends in the contract's UTF-8 strings.
  if (!IsValidUtf8(root)) return absl::InvalidArgumentError("must be UTF-8");
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(root, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("must not contain \"..\" (got \"", root, "\")"));
    }
    if (part.find('\0') != absl::string_view::npos) {
      return absl::InvalidArgumentError("must not contain NUL");
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::StatusOr<UserDb> ParseUsers(absl::string_view text,
                                  absl::string_view source) {
  absl::StatusOr<toml::table> doc = ParseToml(text, source);
  if (!doc.ok()) return doc.status();
  UserDb db;
  absl::flat_hash_map<std::string, std::string> first_seen;  // name -> where
  for (const auto& [key, node] : *doc) {
    if (key.str() != "user") {
      return absl::InvalidArgumentError(absl::StrCat(
          Where(source, node), ": unknown key \"", ToAbsl(key.str()),
          "\" (a users file holds only [[user]] tables)"));
    }
    const toml::array* tables = node.as_array();
    if (tables == nullptr || !tables->is_array_of_tables()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(source, node),
                       ": \"user\" must be written as [[user]] tables"));
    }
    for (size_t i = 0; i < tables->size(); ++i) {
      const toml::table& table = *tables->get(i)->as_table();
      // Name the user in messages as soon as we know the name.
      std::string who = absl::StrCat("[[user]] #", i + 1);
      if (const auto* name = table["name"].as_string()) {
        who = absl::StrCat("user \"", name->get(), "\"");
      }
      UserRecord user;
      absl::Status status = ParseUser(table, UserErrors(source, who), &user);
      if (!status.ok()) return status;
      std::string here = Where(source, table);
      auto [it, inserted] = first_seen.emplace(user.name, here);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat(here, ": user \"", user.name,
                         "\" is defined twice (first at ", it->second, ")"));
      }
      db.by_name_.emplace(user.name, db.users_.size());
      db.users_.push_back(std::move(user));
    }
  }
  if (db.users_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no users (add a [[user]] table)"));
  }
  return db;
}

absl::StatusOr<UserDb> LoadUsersFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadTextFile(path, "users file");
  if (!text.ok()) return text.status();
  return ParseUsers(*text, path);
}

}  // namespace sftpgate::server
