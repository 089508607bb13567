// Optional operations. Unclaimed ones must answer UNIMPLEMENTED
// (unclaimed.*); claimed ones must work: hard_links.*, stat_fs.*,
// real_path.*, set_stat_no_follow.*, usage.* (symlinks.* has its own
// file).

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;
using D = v1::DescribeResponse;

// ---- Unclaimed operations ----

struct OptionalOp {
  const char* name;
  Capability capability;
  const char* capability_name;
  std::function<Reply<Empty>(const Client&, const std::string& file,
                             const std::string& fresh)>
      run;
};

const std::vector<OptionalOp>& OptionalOps() {
  static const auto* const ops = new std::vector<OptionalOp>{
      {"symlink", &D::symlinks, "symlinks",
       [](auto& c, auto& file, auto& fresh) { return c.Symlink(fresh, file); }},
      {"readlink", &D::symlinks, "symlinks",
       [](auto& c, auto& file, auto&) { return StatusOnly(c.ReadLink(file)); }},
      {"link", &D::hard_links, "hard_links",
       [](auto& c, auto& file, auto& fresh) { return c.Link(file, fresh); }},
      {"stat_fs", &D::stat_fs, "stat_fs",
       [](auto& c, auto& file, auto&) { return StatusOnly(c.StatFs(file)); }},
      {"real_path", &D::real_path, "real_path",
       [](auto& c, auto& file, auto&) { return StatusOnly(c.RealPath(file)); }},
      {"usage", &D::usage, "usage",
       [](auto& c, auto&, auto&) { return StatusOnly(c.Usage()); }},
  };
  return *ops;
}

absl::Status Unclaimed(Fixture& f, const OptionalOp& op) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(
      ExpectCode(op.run(f.root(), f.Path("file"), f.Path("fresh")),
                 StatusCode::kUnimplemented));
  return f.ExpectMissing(f.root(), f.Path("fresh"));
}

// ---- Hard links ----

absl::Status ExpectNlink(Fixture& f, const std::string& path, uint32_t nlink) {
  const Reply<v1::Attributes> stat = f.root().Stat(path, false);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  if (a.nlink() == 0) return absl::OkStatus();  // "0 means unknown"
  return ExpectEq(absl::StrCat("nlink from ", stat.call()), nlink, a.nlink());
}

absl::Status HardLinkSharesFile(Fixture& f) {
  const Client& c = f.root();
  const std::string data = PatternBytes(10000, 9);
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("a"), data));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Link(f.Path("a"), f.Path("b"))));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("b"), kTypeFile, false));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("b"), data));
  CONF_RETURN_IF_ERROR(ExpectNlink(f, f.Path("a"), 2));
  CONF_RETURN_IF_ERROR(ExpectNlink(f, f.Path("b"), 2));
  // Either name outlives the other.
  CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(f.Path("a"))));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("b"), data));
  return ExpectNlink(f, f.Path("b"), 1);
}

absl::Status HardLinkErrors(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("a"), "A"));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("b"), "B"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(
      ExpectCode(c.Link(f.Path("a"), f.Path("b")), StatusCode::kAlreadyExists));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Link(f.Path("a"), f.Path("dir")),
                                  StatusCode::kAlreadyExists));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Link(f.Path("dir"), f.Path("dir2")),
                                  StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Link(f.Path("missing"), f.Path("new")),
                                  StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("dir2")));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("new")));
  return f.ExpectContent(c, f.Path("b"), "B");
}

// ---- StatFs ----

absl::Status StatFsFields(Fixture& f) {
  const Reply<v1::StatFsResponse> reply = f.root().StatFs(f.dir());
  CONF_ASSIGN_OR_RETURN(const v1::StatFsResponse s, Require(reply));
  const std::pair<const char*, uint64_t> nonzero[] = {
      {"block_size", s.block_size()},
      {"fragment_size", s.fragment_size()},
      {"blocks", s.blocks()},
      {"max_name_length", s.max_name_length()}};
  for (const auto& [field, value] : nonzero) {
    CONF_RETURN_IF_ERROR(ExpectThat(
        value != 0, absl::StrCat(field, " != 0 from ", reply.call()), "0"));
  }
  const auto le = [&](const char* what, uint64_t small, uint64_t large) {
    return ExpectThat(small <= large,
                      absl::StrCat(what, " from ", reply.call()),
                      absl::StrCat(small, " > ", large));
  };
  CONF_RETURN_IF_ERROR(
      le("blocks_free <= blocks", s.blocks_free(), s.blocks()));
  CONF_RETURN_IF_ERROR(le("blocks_available <= blocks_free",
                          s.blocks_available(), s.blocks_free()));
  if (s.files() == 0) return absl::OkStatus();  // some filesystems report none
  CONF_RETURN_IF_ERROR(le("files_free <= files", s.files_free(), s.files()));
  return le("files_available <= files_free", s.files_available(),
            s.files_free());
}

// ---- RealPath ----

absl::Status ExpectRealPath(const Client& c, const std::string& path,
                            const std::string& expected) {
  const Reply<std::string> reply = c.RealPath(path);
  CONF_ASSIGN_OR_RETURN(const std::string actual, Require(reply));
  return ExpectEq(absl::StrCat("result of ", reply.call()), expected, actual);
}

absl::Status RealPathPlain(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("dir")));
  CONF_RETURN_IF_ERROR(ExpectRealPath(f.root(), "/", "/"));
  CONF_RETURN_IF_ERROR(ExpectRealPath(f.root(), f.Path("dir"), f.Path("dir")));
  // "The final component need not exist."
  return ExpectRealPath(f.root(), f.Path("dir/missing"), f.Path("dir/missing"));
}

absl::Status RealPathResolvesLinks(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("dir/x"), "x"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("rel"), "dir")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("abs"), f.Path("dir"))));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("chain"), "rel")));
  for (const char* link : {"rel", "abs", "chain"}) {
    CONF_RETURN_IF_ERROR(ExpectRealPath(c, f.Path(link), f.Path("dir")));
    CONF_RETURN_IF_ERROR(
        ExpectRealPath(c, f.Path(link) + "/x", f.Path("dir/x")));
    CONF_RETURN_IF_ERROR(
        ExpectRealPath(c, f.Path(link) + "/new", f.Path("dir/new")));
  }
  return absl::OkStatus();
}

// Answers are in the session's view, never the backend's own paths.
absl::Status RealPathSessionView(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("home")));
  const Client user = f.SessionAt(f.Path("home"));
  CONF_RETURN_IF_ERROR(f.MakeDir(user, "/sub"));
  CONF_RETURN_IF_ERROR(ExpectRealPath(user, "/", "/"));
  CONF_RETURN_IF_ERROR(ExpectRealPath(user, "/sub", "/sub"));
  if (!f.describe().symlinks()) return absl::OkStatus();
  CONF_RETURN_IF_ERROR(ExpectOk(user.Symlink("/link", "/sub")));
  return ExpectRealPath(user, "/link", "/sub");
}

// ---- SetStat without following ----

absl::Status SetStatNoFollow(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  v1::Attributes old_time;
  old_time.set_mtime(1000000000);
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(f.Path("file"), old_time, true)));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("link"), "file")));
  v1::Attributes new_time;
  new_time.set_mtime(1234567890);
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(f.Path("link"), new_time, false)));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes link,
                        f.StatOk(c, f.Path("link"), false));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes file,
                        f.StatOk(c, f.Path("file"), false));
  CONF_RETURN_IF_ERROR(
      ExpectEq("mtime of the link", new_time.mtime(), link.mtime()));
  CONF_RETURN_IF_ERROR(ExpectEq("mtime of the target (unchanged)",
                                old_time.mtime(), file.mtime()));
  // On a regular file it behaves like SetStat.
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(f.Path("file"), new_time, false)));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes after,
                        f.StatOk(c, f.Path("file"), false));
  return ExpectEq("mtime of the file", new_time.mtime(), after.mtime());
}

// ---- Usage ----

absl::Status ExpectUsage(const Client& c, uint64_t bytes, uint64_t files) {
  const Reply<v1::UsageResponse> usage = c.Usage();
  CONF_ASSIGN_OR_RETURN(const v1::UsageResponse u, Require(usage));
  CONF_RETURN_IF_ERROR(
      ExpectEq(absl::StrCat("bytes from ", usage.call()), bytes, u.bytes()));
  return ExpectEq(absl::StrCat("files from ", usage.call()), files, u.files());
}

// The regular files beneath the session's root, subdirectories included,
// and nothing outside it (what the front end's quotas rest on).
absl::Status UsageCountsTheRootsFiles(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("home")));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("outside"), "12345"));
  const Client user = f.SessionAt(f.Path("home"));
  CONF_RETURN_IF_ERROR(ExpectUsage(user, 0, 0));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/a", PatternBytes(10000, 3)));
  CONF_RETURN_IF_ERROR(f.MakeDir(user, "/sub"));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/sub/b", "abc"));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/sub/empty", ""));
  CONF_RETURN_IF_ERROR(ExpectUsage(user, 10003, 3));
  CONF_RETURN_IF_ERROR(ExpectOk(user.Remove("/a")));
  return ExpectUsage(user, 3, 2);
}

}  // namespace

void RegisterOptionalChecks(Registry& registry) {
  for (const OptionalOp& op : OptionalOps()) {
    registry.Add(absl::StrCat("unclaimed.", op.name, "_unimplemented"),
                 {DoesNotClaim(op.capability, op.capability_name)},
                 [&op](Fixture& f) { return Unclaimed(f, op); });
  }
  const Requirement hard_links = Claims(&D::hard_links, "hard_links");
  const Requirement stat_fs = Claims(&D::stat_fs, "stat_fs");
  const Requirement real_path = Claims(&D::real_path, "real_path");
  const Requirement symlinks = Claims(&D::symlinks, "symlinks");
  const Requirement no_follow =
      Claims(&D::set_stat_no_follow, "set_stat_no_follow");
  registry.Add("hard_links.share_the_file", {hard_links}, HardLinkSharesFile);
  registry.Add("hard_links.errors", {hard_links}, HardLinkErrors);
  registry.Add("stat_fs.fields", {stat_fs}, StatFsFields);
  registry.Add("real_path.plain_paths", {real_path}, RealPathPlain);
  registry.Add("real_path.resolves_symlinks", {real_path, symlinks},
               RealPathResolvesLinks);
  registry.Add("real_path.session_view", {real_path}, RealPathSessionView);
  registry.Add("set_stat_no_follow.changes_the_link", {no_follow, symlinks},
               SetStatNoFollow);
  registry.Add("usage.counts_the_roots_files", {Claims(&D::usage, "usage")},
               UsageCountsTheRootsFiles);
}

}  // namespace sftpgate::conformance
