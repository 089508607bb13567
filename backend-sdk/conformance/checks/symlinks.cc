// symlinks.*: for backends that claim symlinks: targets are stored
// verbatim, Lstat describes the link and Stat its target, dangling links
// are allowed, absolute targets are read in the session's view, and no
// link leads out of the session root.

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

absl::Status CreateAndReadLink(Fixture& f) {
  // Stored verbatim: relative, absolute, climbing, dangling, unnormalized.
  const char* const targets[] = {"file", "/abs/target", "../up/x", "nowhere",
                                 "d/./e//f"};
  for (size_t i = 0; i < std::size(targets); ++i) {
    const std::string link = f.Path(absl::StrCat("link", i));
    const std::string target = targets[i];
    CONF_RETURN_IF_ERROR(ExpectOk(f.root().Symlink(link, target)));
    const Reply<std::string> reply = f.root().ReadLink(link);
    CONF_ASSIGN_OR_RETURN(const std::string stored, Require(reply));
    CONF_RETURN_IF_ERROR(
        ExpectEq(absl::StrCat("target from ", reply.call()), target, stored));
  }
  return absl::OkStatus();
}

absl::Status LstatVersusStat(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "1234567"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("to-file"), "file")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("to-dir"), "dir")));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("to-file"), kTypeLink, false));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("to-file"), kTypeFile, true));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("to-dir"), kTypeLink, false));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("to-dir"), kTypeDir, true));
  const Reply<v1::Attributes> stat = c.Stat(f.Path("to-file"), true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  CONF_RETURN_IF_ERROR(
      ExpectEq(absl::StrCat("size from ", stat.call()), uint64_t{7}, a.size()));
  return f.ExpectContent(c, f.Path("to-file"), "1234567");
}

absl::Status Dangling(Fixture& f) {
  const Client& c = f.root();
  const std::string link = f.Path("dangling");
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(link, "nowhere")));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, link, kTypeLink, false));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Stat(link, true), StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Read(link, {}), StatusCode::kNotFound));
  CONF_ASSIGN_OR_RETURN(const std::string target, Require(c.ReadLink(link)));
  CONF_RETURN_IF_ERROR(
      ExpectEq("target of the dangling link", "nowhere", target));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(link)));
  return f.ExpectMissing(c, link);
}

absl::Status LinkPathExists(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("link"), "file")));
  for (const char* name : {"file", "dir", "link"}) {
    CONF_RETURN_IF_ERROR(ExpectCode(c.Symlink(f.Path(name), "elsewhere"),
                                    StatusCode::kAlreadyExists));
  }
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("dir"), kTypeDir));
  CONF_ASSIGN_OR_RETURN(const std::string target,
                        Require(c.ReadLink(f.Path("link"))));
  return ExpectEq("target of the existing link", "file", target);
}

absl::Status ReadLinkErrors(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(
      ExpectCode(c.ReadLink(f.Path("missing")), StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(ExpectCodeIn(
      c.ReadLink(f.Path("file")),
      {StatusCode::kFailedPrecondition, StatusCode::kInvalidArgument}));
  return ExpectCodeIn(c.ReadLink(f.dir()), {StatusCode::kFailedPrecondition,
                                            StatusCode::kInvalidArgument});
}

// Remove and RemoveDir act on the link itself, never on what it points to.
absl::Status RemoveDoesNotFollow(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("to-file"), "file")));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("to-dir"), "dir")));
  CONF_RETURN_IF_ERROR(ExpectCode(c.RemoveDir(f.Path("to-dir")),
                                  StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(f.Path("to-file"))));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(f.Path("to-dir"))));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("to-file")));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("to-dir")));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("file"), "data"));
  return f.ExpectType(c, f.Path("dir"), kTypeDir);
}

absl::Status RenameMovesLink(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("link"), "file")));
  CONF_RETURN_IF_ERROR(
      ExpectOk(c.Rename(f.Path("link"), f.Path("moved"), false)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("link")));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("moved"), kTypeLink, false));
  CONF_ASSIGN_OR_RETURN(const std::string target,
                        Require(c.ReadLink(f.Path("moved"))));
  CONF_RETURN_IF_ERROR(ExpectEq("target of the moved link", "file", target));
  return f.ExpectContent(c, f.Path("file"), "data");
}

// Links in earlier components are always followed, for every operation.
absl::Status FollowedInPath(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("dir")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("dir/x"), "x"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("via"), "dir")));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("via/x"), kTypeFile, false));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("via/x"), "x"));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("via/y"), "y"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("via/sub")));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("dir/y"), "y"));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("dir/sub"), kTypeDir));
  return f.ExpectNames(c, f.Path("via"), {"x", "y", "sub"}).status();
}

// "an absolute symlink target is read relative to that root".
absl::Status AbsoluteTargetInSessionView(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("home")));
  const Client user = f.SessionAt(f.Path("home"));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/t", "mine"));
  CONF_RETURN_IF_ERROR(f.MakeDir(user, "/sub"));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/sub/x", "x"));
  CONF_RETURN_IF_ERROR(ExpectOk(user.Symlink("/abs", "/t")));
  CONF_RETURN_IF_ERROR(ExpectOk(user.Symlink("/absdir", "/sub")));
  CONF_RETURN_IF_ERROR(f.ExpectContent(user, "/abs", "mine"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(user, "/absdir/x", "x"));
  CONF_RETURN_IF_ERROR(f.ExpectType(user, "/absdir", kTypeDir, true));
  CONF_ASSIGN_OR_RETURN(const std::string target,
                        Require(user.ReadLink("/abs")));
  return ExpectEq("stored target", "/t", target);
}

// A session confined to <dir>/jail whose links all try to lead out, to
// <dir>/secret or to <dir> itself.
absl::StatusOr<Client> MakeEscapeLinks(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("jail")));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("secret"), "secret"));
  Client user = f.SessionAt(f.Path("jail"));
  CONF_RETURN_IF_ERROR(f.MakeDir(user, "/sub"));
  for (const auto& [path, target] :
       {std::pair<const char*, const char*>{"/up", "../secret"},
        {"/deep", "sub/../../secret"},
        {"/abs", "/../secret"},
        {"/sub/twice", "../../secret"},
        {"/updir", ".."},
        {"/out", "../created"}}) {
    CONF_RETURN_IF_ERROR(ExpectOk(user.Symlink(path, target)));
  }
  return user;
}

constexpr const char* kFileEscapes[] = {"/up",        "/deep", "/abs",
                                        "/sub/twice", "/out",  "/updir/secret"};

// Outside the jail nothing changed or appeared.
absl::Status ExpectOutsideIntact(Fixture& f, const v1::Attributes& secret) {
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("secret"), "secret"));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes now,
                        f.StatOk(f.root(), f.Path("secret"), false));
  CONF_RETURN_IF_ERROR(ExpectEq("mode of the file outside the jail",
                                ShowMode(secret.mode()), ShowMode(now.mode())));
  return f.ExpectNames(f.root(), f.dir(), {"jail", "secret"}).status();
}

// The security property: whatever a backend answers, no link reads,
// lists, writes or changes anything outside the session root.
absl::Status EscapeConfined(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const Client user, MakeEscapeLinks(f));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes secret,
                        f.StatOk(f.root(), f.Path("secret"), false));
  v1::Attributes mode;
  mode.set_mode(0600);
  for (const char* path : kFileEscapes) {
    const Reply<ReadResult> read = user.Read(path, {});
    if (read.ok()) {
      CONF_RETURN_IF_ERROR(
          ExpectThat(read.value().data != "secret",
                     absl::StrCat("no data from outside via ", read.call()),
                     "the outside file's contents"));
    }
    user.Write(MakeHeader(path, kCreate | kTruncate), {{0, "pwned"}});
    user.SetStat(path, mode, true);
    CONF_RETURN_IF_ERROR(ExpectOutsideIntact(f, secret));
  }
  const Reply<Listing> listing = user.ListDir("/updir");
  if (listing.ok()) {
    for (const v1::DirEntry& entry : listing.value().entries) {
      CONF_RETURN_IF_ERROR(
          ExpectThat(entry.name() != "jail",
                     absl::StrCat("no outside entries from ", listing.call()),
                     "the jail's parent directory"));
    }
  }
  user.MakeDir("/updir/made");
  user.Remove("/updir/secret");
  return ExpectOutsideIntact(f, secret);
}

// SetStat with follow_symlinks changes the target.
absl::Status SetStatFollows(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Symlink(f.Path("link"), "file")));
  v1::Attributes a;
  a.set_mtime(1234567890);
  CONF_RETURN_IF_ERROR(ExpectOk(c.SetStat(f.Path("link"), a, true)));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes target,
                        f.StatOk(c, f.Path("file"), false));
  CONF_RETURN_IF_ERROR(
      ExpectEq("mtime of the target", a.mtime(), target.mtime()));
  return f.ExpectType(c, f.Path("link"), kTypeLink, false);
}

}  // namespace

void RegisterSymlinkChecks(Registry& registry) {
  const std::vector<Requirement> needs = {
      Claims(&v1::DescribeResponse::symlinks, "symlinks")};
  registry.Add("symlinks.create_and_readlink", needs, CreateAndReadLink);
  registry.Add("symlinks.lstat_versus_stat", needs, LstatVersusStat);
  registry.Add("symlinks.dangling_allowed", needs, Dangling);
  registry.Add("symlinks.link_path_exists", needs, LinkPathExists);
  registry.Add("symlinks.readlink_errors", needs, ReadLinkErrors);
  registry.Add("symlinks.remove_does_not_follow", needs, RemoveDoesNotFollow);
  registry.Add("symlinks.rename_moves_link", needs, RenameMovesLink);
  registry.Add("symlinks.followed_in_path", needs, FollowedInPath);
  registry.Add("symlinks.absolute_target_in_session_view", needs,
               AbsoluteTargetInSessionView);
  registry.Add("symlinks.escape_confined", needs, EscapeConfined);
  registry.Add("symlinks.set_stat_follows", needs, SetStatFollows);
}

}  // namespace sftpgate::conformance
