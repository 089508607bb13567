// errors.*: the status codes the contract fixes for missing paths, wrong
// types, existing targets and paths that are not normalized or would leave
// the session root.

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

// The second path of a rename, chosen so that only `path` is at fault: an
// existing source for "rename_to", an absent target for "rename_from".
struct Others {
  std::string existing;
  std::string absent;
};

// One operation applied to `path`.
struct PathOp {
  std::string name;
  std::function<Reply<Empty>(const Client& c, const std::string& path,
                             const Others& other)>
      run;
};

// Every operation that takes a path, once.
const std::vector<PathOp>& PathOps() {
  static const auto* const ops = new std::vector<PathOp>{
      {"stat",
       [](auto& c, auto& p, auto&) { return StatusOnly(c.Stat(p, true)); }},
      {"lstat",
       [](auto& c, auto& p, auto&) { return StatusOnly(c.Stat(p, false)); }},
      {"list_dir",
       [](auto& c, auto& p, auto&) { return StatusOnly(c.ListDir(p)); }},
      {"read",
       [](auto& c, auto& p, auto&) { return StatusOnly(c.Read(p, {})); }},
      {"remove", [](auto& c, auto& p, auto&) { return c.Remove(p); }},
      {"remove_dir", [](auto& c, auto& p, auto&) { return c.RemoveDir(p); }},
      {"make_dir", [](auto& c, auto& p, auto&) { return c.MakeDir(p); }},
      {"set_stat",
       [](auto& c, auto& p, auto&) {
         v1::Attributes a;
         a.set_mode(0644);
         return c.SetStat(p, a, true);
       }},
      {"write",
       [](auto& c, auto& p, auto&) {
         return StatusOnly(
             c.Write(MakeHeader(p, kCreate | kTruncate), {{0, "x"}}));
       }},
      {"rename_from",
       [](auto& c, auto& p, auto& o) { return c.Rename(p, o.absent, false); }},
      {"rename_to", [](auto& c, auto& p,
                       auto& o) { return c.Rename(o.existing, p, false); }},
  };
  return *ops;
}

// NOT_FOUND for a missing final component and for a missing parent.
// (MakeDir and Write are covered by directories.* and write.*.)
absl::Status MissingPath(Fixture& f, const PathOp& op) {
  const Others others{f.Path("unused"), f.Path("dest")};
  for (const std::string& path : {f.Path("missing"), f.Path("missing/child")}) {
    CONF_RETURN_IF_ERROR(
        ExpectCode(op.run(f.root(), path, others), StatusCode::kNotFound));
  }
  return f.ExpectMissing(f.root(), others.absent);
}

// A session confined to <dir>/jail, holding /f and /sub, next to a file
// <dir>/secret that it must never reach.
struct Jail {
  Client session;
  std::string secret;
};

absl::StatusOr<Jail> MakeJail(Fixture& f) {
  const std::string jail = f.Path("jail");
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), jail));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), jail + "/sub"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), jail + "/f", "inside"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("secret"), "secret"));
  return Jail{f.SessionAt(jail), f.Path("secret")};
}

// Nothing outside the jail changed and the jail is intact.
absl::Status ExpectJailIntact(Fixture& f, const Jail& jail) {
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), jail.secret, "secret"));
  CONF_RETURN_IF_ERROR(
      f.ExpectNames(f.root(), f.dir(), {"jail", "secret"}).status());
  return f.ExpectContent(jail.session, "/f", "inside");
}

// ".." that climbs above the session root: PERMISSION_DENIED (or
// INVALID_ARGUMENT, since such a path is not normalized either).
absl::Status PathEscape(Fixture& f, const PathOp& op) {
  CONF_ASSIGN_OR_RETURN(const Jail jail, MakeJail(f));
  for (const char* path : {"/..", "/../secret", "/sub/../../secret"}) {
    CONF_RETURN_IF_ERROR(ExpectCodeIn(
        op.run(jail.session, path, Others{"/f", "/new"}),
        {StatusCode::kPermissionDenied, StatusCode::kInvalidArgument}));
    CONF_RETURN_IF_ERROR(ExpectJailIntact(f, jail));
  }
  return absl::OkStatus();
}

// Paths must be absolute and non-empty.
absl::Status RelativePath(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const Jail jail, MakeJail(f));
  for (const PathOp& op : PathOps()) {
    for (const char* path : {"", "sub", "relative"}) {
      CONF_RETURN_IF_ERROR(ExpectCodeIn(
          op.run(jail.session, path, Others{"/f", "/new"}),
          {StatusCode::kInvalidArgument, StatusCode::kPermissionDenied}));
    }
  }
  return ExpectJailIntact(f, jail);
}

// "a name containing NUL is refused with INVALID_ARGUMENT", and nothing is
// created under the part before the NUL.
absl::Status NulInName(Fixture& f) {
  const std::string path = f.Path(std::string("a\0b", 3));
  const Others others{f.Path("other"), f.Path("dest")};
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), others.existing, "other"));
  for (const PathOp& op : PathOps()) {
    CONF_RETURN_IF_ERROR(ExpectCode(op.run(f.root(), path, others),
                                    StatusCode::kInvalidArgument));
  }
  return f.ExpectNames(f.root(), f.dir(), {"other"}).status();
}

absl::Status MakeDirOnExisting(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("dir")));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "data"));
  // With a message: SFTP clients show it (the code alone reads "Failure").
  CONF_RETURN_IF_ERROR(ExpectCodeWithMessage(f.root().MakeDir(f.Path("dir")),
                                             StatusCode::kAlreadyExists));
  CONF_RETURN_IF_ERROR(ExpectCodeWithMessage(f.root().MakeDir(f.Path("file")),
                                             StatusCode::kAlreadyExists));
  return f.ExpectContent(f.root(), f.Path("file"), "data");
}

absl::Status RemoveOnDirectory(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("dir")));
  CONF_RETURN_IF_ERROR(ExpectCode(f.root().Remove(f.Path("dir")),
                                  StatusCode::kFailedPrecondition));
  return f.ExpectType(f.root(), f.Path("dir"), kTypeDir);
}

absl::Status ReadOnDirectory(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("dir")));
  return ExpectCode(f.root().Read(f.Path("dir"), {}),
                    StatusCode::kFailedPrecondition);
}

absl::Status ListDirOnFile(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "data"));
  return ExpectCode(f.root().ListDir(f.Path("file")),
                    StatusCode::kFailedPrecondition);
}

// The proto leaves this code implicit; FAILED_PRECONDITION is what it uses
// for every other "wrong type" (Read on a directory, Remove on one).
absl::Status WriteOnDirectory(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("dir")));
  CONF_RETURN_IF_ERROR(
      ExpectCode(f.root().Write(MakeHeader(f.Path("dir"), kCreate | kTruncate),
                                {{0, "x"}}),
                 StatusCode::kFailedPrecondition));
  return f.ExpectType(f.root(), f.Path("dir"), kTypeDir);
}

// A file used as a directory: the contract names no code, but it must be
// an error and a sensible one.
absl::Status PathThroughFile(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "data"));
  return ExpectCodeIn(f.root().Stat(f.Path("file/child"), true),
                      {StatusCode::kNotFound, StatusCode::kFailedPrecondition});
}

}  // namespace

void RegisterErrorChecks(Registry& registry) {
  for (const PathOp& op : PathOps()) {
    if (op.name != "make_dir" && op.name != "write" && op.name != "rename_to") {
      registry.Add("errors.missing_path." + op.name,
                   [&op](Fixture& f) { return MissingPath(f, op); });
    }
  }
  for (const PathOp& op : PathOps()) {
    registry.Add("errors.path_escape." + op.name,
                 [&op](Fixture& f) { return PathEscape(f, op); });
  }
  registry.Add("errors.relative_path", RelativePath);
  registry.Add("errors.nul_in_name", NulInName);
  registry.Add("errors.make_dir_on_existing", MakeDirOnExisting);
  registry.Add("errors.remove_on_directory", RemoveOnDirectory);
  registry.Add("errors.read_on_directory", ReadOnDirectory);
  registry.Add("errors.list_dir_on_file", ListDirOnFile);
  registry.Add("errors.write_on_directory", WriteOnDirectory);
  registry.Add("errors.path_through_file", PathThroughFile);
}

}  // namespace sftpgate::conformance
