// directories.*: MakeDir needs an existing parent and a free name;
// RemoveDir removes only empty directories and never the session root.
// Refusing a non-empty directory carries a message saying so: it is what
// SFTP clients show (errors.make_dir_on_existing asks the same of MakeDir).

#include <string>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

absl::Status MakeAndRemove(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("a")));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("a/b")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("a/b/file"), "deep"));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("a/b"), kTypeDir));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("a/b/file"), "deep"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Remove(f.Path("a/b/file"))));
  CONF_RETURN_IF_ERROR(ExpectOk(c.RemoveDir(f.Path("a/b"))));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("a/b")));
  return f.ExpectType(c, f.Path("a"), kTypeDir);
}

absl::Status MakeDirMode(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(ExpectOk(c.MakeDir(f.Path("private"), 0700)));
  CONF_RETURN_IF_ERROR(f.ExpectPermissions(c, f.Path("private"), 0700));
  CONF_RETURN_IF_ERROR(ExpectOk(c.MakeDir(f.Path("default"))));
  return f.ExpectPermissions(c, f.Path("default"), 0755);
}

absl::Status MakeDirMissingParent(Fixture& f) {
  CONF_RETURN_IF_ERROR(ExpectCode(f.root().MakeDir(f.Path("missing/child")),
                                  StatusCode::kNotFound));
  return f.ExpectMissing(f.root(), f.Path("missing"));
}

absl::Status RemoveDirNonEmpty(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("d/x"), "x"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("e")));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("e/sub")));
  CONF_RETURN_IF_ERROR(ExpectCodeWithMessage(c.RemoveDir(f.Path("d")),
                                             StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(ExpectCodeWithMessage(c.RemoveDir(f.Path("e")),
                                             StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("d/x"), "x"));
  return f.ExpectType(c, f.Path("e/sub"), kTypeDir);
}

absl::Status RemoveDirOnFile(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "data"));
  CONF_RETURN_IF_ERROR(ExpectCode(f.root().RemoveDir(f.Path("file")),
                                  StatusCode::kFailedPrecondition));
  return f.ExpectContent(f.root(), f.Path("file"), "data");
}

// Even an empty session root stays: "PERMISSION_DENIED for the session
// root".
absl::Status RemoveSessionRoot(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("home")));
  const Client user = f.SessionAt(f.Path("home"));
  CONF_RETURN_IF_ERROR(
      ExpectCode(user.RemoveDir("/"), StatusCode::kPermissionDenied));
  return f.ExpectType(f.root(), f.Path("home"), kTypeDir);
}

}  // namespace

void RegisterDirectoryChecks(Registry& registry) {
  registry.Add("directories.make_and_remove", MakeAndRemove);
  registry.Add("directories.make_dir_mode", MakeDirMode);
  registry.Add("directories.make_dir_missing_parent", MakeDirMissingParent);
  registry.Add("directories.remove_dir_non_empty", RemoveDirNonEmpty);
  registry.Add("directories.remove_dir_on_file", RemoveDirOnFile);
  registry.Add("directories.remove_session_root", RemoveSessionRoot);
}

}  // namespace sftpgate::conformance
