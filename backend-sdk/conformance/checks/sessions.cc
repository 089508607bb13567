// sessions.*: every request is served in its session's view: "/" is
// Session.root, sessions with different roots cannot see each other's
// files, and a read-only session may be refused modifications.

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

// The listing of `dir` for session `c` holds exactly `names`.
absl::Status ExpectNames(Fixture& f, const Client& c, const std::string& dir,
                         const std::set<std::string>& names) {
  return f.ExpectNames(c, dir, names).status();
}

// The roots are created by the root session first: the contract does not
// say that a backend creates missing roots.
absl::Status RootsAreIsolated(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("u1")));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("u2")));
  const Client u1 = f.SessionAt(f.Path("u1"));
  const Client u2 = f.SessionAt(f.Path("u2"));
  CONF_RETURN_IF_ERROR(f.WriteFile(u1, "/f", "one"));
  CONF_RETURN_IF_ERROR(f.WriteFile(u1, "/only1", "mine"));
  CONF_RETURN_IF_ERROR(f.WriteFile(u2, "/f", "two"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(u1, "/f", "one"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(u2, "/f", "two"));
  CONF_RETURN_IF_ERROR(
      ExpectCode(u2.Stat("/only1", true), StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(
      ExpectCode(u2.Read("/only1", {}), StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(ExpectCode(u2.Remove("/only1"), StatusCode::kNotFound));
  CONF_RETURN_IF_ERROR(ExpectNames(f, u2, "/", {"f"}));
  CONF_RETURN_IF_ERROR(ExpectNames(f, u1, "/", {"f", "only1"}));
  // And the root session sees both, where they belong.
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("u1/f"), "one"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("u2/f"), "two"));
  return f.ExpectContent(f.root(), f.Path("u1/only1"), "mine");
}

// "/" in a session is Session.root, for reading and for creating.
absl::Status SlashIsSessionRoot(Fixture& f) {
  const std::string home = f.Path("home/user");
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("home")));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), home));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), home + "/from-root", "r"));
  const Client user = f.SessionAt(home);
  CONF_RETURN_IF_ERROR(f.ExpectType(user, "/", kTypeDir, true));
  CONF_RETURN_IF_ERROR(f.ExpectContent(user, "/from-root", "r"));
  CONF_RETURN_IF_ERROR(f.MakeDir(user, "/made"));
  CONF_RETURN_IF_ERROR(f.WriteFile(user, "/made/file", "u"));
  CONF_RETURN_IF_ERROR(ExpectOk(user.Rename("/made/file", "/moved", false)));
  CONF_RETURN_IF_ERROR(
      ExpectNames(f, user, "/", {"from-root", "made", "moved"}));
  CONF_RETURN_IF_ERROR(
      ExpectNames(f, f.root(), home, {"from-root", "made", "moved"}));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), home + "/moved", "u"));
  // Nothing leaked into the backend's own "/" or the parent of the root.
  CONF_RETURN_IF_ERROR(ExpectNames(f, f.root(), f.Path("home"), {"user"}));
  return f.ExpectMissing(f.root(), "/made");
}

// The proto says a backend *may* enforce read_only (the front end always
// does). Enforcement must use PERMISSION_DENIED; reads must keep working.
absl::Status ReadOnly(Fixture& f) {
  const std::string home = f.Path("home");
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), home));
  for (const char* name : {"f1", "f2", "f3", "f4"}) {
    CONF_RETURN_IF_ERROR(
        f.WriteFile(f.root(), absl::StrCat(home, "/", name), name));
  }
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), home + "/d"));
  const Client ro = f.SessionAt(home, /*read_only=*/true);
  CONF_RETURN_IF_ERROR(f.ExpectContent(ro, "/f1", "f1"));
  CONF_RETURN_IF_ERROR(ExpectNames(f, ro, "/", {"d", "f1", "f2", "f3", "f4"}));

  v1::Attributes mode;
  mode.set_mode(0600);
  const std::vector<Reply<Empty>> attempts = {
      ro.MakeDir("/new-dir"),
      StatusOnly(ro.Write(MakeHeader("/f1", kTruncate), {{0, "x"}})),
      StatusOnly(ro.Write(MakeHeader("/new-file", kCreate), {{0, "x"}})),
      ro.Remove("/f2"),
      ro.RemoveDir("/d"),
      ro.Rename("/f3", "/renamed", false),
      ro.SetStat("/f4", mode, true),
  };
  std::vector<std::string> allowed;
  for (const Reply<Empty>& attempt : attempts) {
    if (attempt.ok()) {
      allowed.push_back(attempt.call());
      continue;
    }
    CONF_RETURN_IF_ERROR(ExpectCodeIn(
        attempt, {StatusCode::kPermissionDenied, StatusCode::kOk}));
  }
  if (allowed.size() == attempts.size()) {
    return Skip(
        "backend does not enforce read_only (allowed: the front end "
        "does)");
  }
  if (!allowed.empty()) {
    return Skip(
        absl::StrCat("backend enforces read_only only partly; allowed: ",
                     absl::StrJoin(allowed, "; ")));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterSessionChecks(Registry& registry) {
  registry.Add("sessions.roots_are_isolated", RootsAreIsolated);
  registry.Add("sessions.slash_is_session_root", SlashIsSessionRoot);
  registry.Add("sessions.read_only_enforced", ReadOnly);
}

}  // namespace sftpgate::conformance
