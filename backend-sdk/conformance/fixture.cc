#include "fixture.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

// The contract's defaults for Describe's zero chunk sizes.
constexpr uint32_t kDefaultPreferredChunk = 256 * 1024;
constexpr uint32_t kDefaultMaxChunk = 1024 * 1024;

}  // namespace

Environment::Environment(std::shared_ptr<v1::Backend::Stub> stub,
                         absl::Duration timeout, std::string run_id)
    : stub_(std::move(stub)),
      timeout_(timeout),
      run_id_(std::move(run_id)),
      root_(NewSession("/")) {}

Client Environment::NewSession(absl::string_view root, bool read_only) {
  v1::Session session;
  session.set_session_id(
      absl::StrCat("conformance-", run_id_, "-", ++sessions_));
  session.set_user("conformance");
  session.set_remote_address("127.0.0.1:22");
  session.set_client_version("SSH-2.0-sftpgate-conformance");
  session.set_root(std::string(root));
  session.set_read_only(read_only);
  return Client(stub_, std::move(session), timeout_, budget_);
}

uint32_t Environment::max_chunk_size() const {
  return describe_.max_chunk_size() != 0 ? describe_.max_chunk_size()
                                         : kDefaultMaxChunk;
}

uint32_t Environment::preferred_chunk_size() const {
  const uint32_t preferred = describe_.preferred_chunk_size() != 0
                                 ? describe_.preferred_chunk_size()
                                 : kDefaultPreferredChunk;
  return std::min(preferred, max_chunk_size());
}

Fixture::Fixture(Environment* env, std::string dir)
    : env_(env), dir_(std::move(dir)) {}

std::string Fixture::Path(absl::string_view name) const {
  return absl::StrCat(dir_, "/", name);
}

Client Fixture::SessionAt(absl::string_view root_path, bool read_only) const {
  return env_->NewSession(root_path, read_only);
}

uint32_t Fixture::chunk_size() const { return env_->preferred_chunk_size(); }
uint32_t Fixture::max_chunk_size() const { return env_->max_chunk_size(); }

absl::Status Fixture::MakeDir(const Client& c, absl::string_view path) const {
  return ExpectOk(c.MakeDir(path));
}

absl::Status Fixture::WriteFile(const Client& c, absl::string_view path,
                                absl::string_view data) const {
  const Reply<uint64_t> reply = c.Write(MakeHeader(path, kCreate | kTruncate),
                                        SplitChunks(data, 0, chunk_size()));
  CONF_ASSIGN_OR_RETURN(const uint64_t committed, Require(reply));
  return ExpectEq(absl::StrCat("committed_size of ", reply.call()),
                  static_cast<uint64_t>(data.size()), committed);
}

absl::Status Fixture::ValidateChunks(absl::string_view call,
                                     const ReadResult& result,
                                     uint64_t offset) const {
  uint64_t next = offset;
  for (size_t i = 0; i < result.chunks.size(); ++i) {
    const ChunkSpan& chunk = result.chunks[i];
    if (chunk.offset != next) {
      return Fail(absl::StrCat("expected chunk ", i, " of ", call,
                               " at offset ", next, " (contiguous), got ",
                               chunk.offset));
    }
    if (chunk.size > max_chunk_size()) {
      return Fail(absl::StrCat("expected chunks of ", call,
                               " <= ", max_chunk_size(),
                               " bytes (max_chunk_size), got ", chunk.size));
    }
    next += chunk.size;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Fixture::ReadFile(const Client& c,
                                              absl::string_view path) const {
  const Reply<ReadResult> reply = c.Read(path, ReadOptions());
  CONF_ASSIGN_OR_RETURN(ReadResult result, Require(reply));
  CONF_RETURN_IF_ERROR(ValidateChunks(reply.call(), result, 0));
  return std::move(result.data);
}

absl::StatusOr<std::vector<v1::DirEntry>> Fixture::ListAll(
    const Client& c, absl::string_view path) const {
  const Reply<Listing> reply = c.ListDir(path);
  CONF_ASSIGN_OR_RETURN(Listing listing, Require(reply));
  absl::flat_hash_set<std::string> seen;
  for (const v1::DirEntry& entry : listing.entries) {
    const std::string& name = entry.name();
    const bool valid = !name.empty() && name != "." && name != ".." &&
                       name.find('/') == std::string::npos;
    CONF_RETURN_IF_ERROR(ExpectThat(
        valid, absl::StrCat("single-component names from ", reply.call()),
        Show(name)));
    CONF_RETURN_IF_ERROR(
        ExpectThat(seen.insert(name).second,
                   absl::StrCat("each name once from ", reply.call()),
                   absl::StrCat(Show(name), " twice")));
  }
  return std::move(listing.entries);
}

absl::StatusOr<std::vector<v1::DirEntry>> Fixture::ExpectNames(
    const Client& c, absl::string_view path,
    const std::set<std::string>& names) const {
  CONF_ASSIGN_OR_RETURN(std::vector<v1::DirEntry> entries, ListAll(c, path));
  std::set<std::string> listed;
  for (const v1::DirEntry& entry : entries) listed.insert(entry.name());
  const std::string call = c.CallName("ListDir", absl::CHexEscape(path));
  for (const std::string& name : names) {
    if (listed.count(name) == 0) {
      return Fail(absl::StrCat("expected ", Show(name), " from ", call,
                               ", got ", entries.size(),
                               " entries without it"));
    }
  }
  for (const std::string& name : listed) {
    if (names.count(name) == 0) {
      return Fail(absl::StrCat("expected only the ", names.size(),
                               " known entries from ", call, ", got also ",
                               Show(name)));
    }
  }
  return entries;
}

absl::StatusOr<v1::Attributes> Fixture::StatOk(const Client& c,
                                               absl::string_view path,
                                               bool follow) const {
  return Require(c.Stat(path, follow));
}

absl::Status Fixture::ExpectContent(const Client& c, absl::string_view path,
                                    absl::string_view expected) const {
  CONF_ASSIGN_OR_RETURN(const std::string actual, ReadFile(c, path));
  return ExpectSameBytes(absl::StrCat("content of ", absl::CHexEscape(path)),
                         expected, actual);
}

absl::Status Fixture::ExpectMissing(const Client& c,
                                    absl::string_view path) const {
  return ExpectCode(c.Stat(path, /*follow=*/false),
                    absl::StatusCode::kNotFound);
}

absl::Status Fixture::ExpectType(const Client& c, absl::string_view path,
                                 uint32_t type, bool follow) const {
  const Reply<v1::Attributes> reply = c.Stat(path, follow);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes attributes, Require(reply));
  if (!attributes.has_mode()) {
    return Fail(absl::StrCat("expected mode with type bits from ", reply.call(),
                             ", got no mode"));
  }
  return ExpectEq(absl::StrCat("type from ", reply.call()), TypeName(type),
                  TypeName(attributes.mode() & kTypeMask));
}

absl::Status Fixture::RemoveTree(const Client& c,
                                 absl::string_view path) const {
  CONF_ASSIGN_OR_RETURN(const std::vector<v1::DirEntry> entries,
                        ListAll(c, path));
  for (const v1::DirEntry& entry : entries) {
    const std::string child = path == "/"
                                  ? absl::StrCat("/", entry.name())
                                  : absl::StrCat(path, "/", entry.name());
    if ((entry.attributes().mode() & kTypeMask) == kTypeDir) {
      CONF_RETURN_IF_ERROR(RemoveTree(c, child));
    } else {
      CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(child)));
    }
  }
  if (path == "/") return absl::OkStatus();  // a session root stays
  return ExpectOk(c.RemoveDir(path));
}

absl::Status Fixture::ExpectPermissions(const Client& c, absl::string_view path,
                                        uint32_t perms) const {
  const Reply<v1::Attributes> reply = c.Stat(path, /*follow=*/false);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes attributes, Require(reply));
  return ExpectEq(absl::StrCat("permission bits from ", reply.call()),
                  ShowMode(perms), ShowMode(attributes.mode() & 07777));
}

std::string TypeName(uint32_t type) {
  switch (type) {
    case kTypeFile:
      return "file";
    case kTypeDir:
      return "directory";
    case kTypeLink:
      return "symlink";
    default:
      return ShowMode(type);
  }
}

}  // namespace sftpgate::conformance
