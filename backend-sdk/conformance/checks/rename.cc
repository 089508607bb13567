// rename.*: Rename moves files and whole trees, refuses to replace unless
// told to, replaces with rename(2) rules when told to, and never moves a
// directory beneath itself.

#include <string>

#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

absl::Status File(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("a"), "payload"));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("sub")));
  CONF_RETURN_IF_ERROR(
      ExpectOk(f.root().Rename(f.Path("a"), f.Path("b"), false)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), f.Path("a")));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("b"), "payload"));
  CONF_RETURN_IF_ERROR(
      ExpectOk(f.root().Rename(f.Path("b"), f.Path("sub/c"), false)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), f.Path("b")));
  return f.ExpectContent(f.root(), f.Path("sub/c"), "payload");
}

absl::Status OntoExistingWithoutOverwrite(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("a"), "A"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("b"), "B"));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("d1")));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("d2")));
  CONF_RETURN_IF_ERROR(
      ExpectCode(f.root().Rename(f.Path("a"), f.Path("b"), false),
                 StatusCode::kAlreadyExists));
  CONF_RETURN_IF_ERROR(
      ExpectCode(f.root().Rename(f.Path("d1"), f.Path("d2"), false),
                 StatusCode::kAlreadyExists));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("a"), "A"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), f.Path("b"), "B"));
  CONF_RETURN_IF_ERROR(f.ExpectType(f.root(), f.Path("d1"), kTypeDir));
  return f.ExpectType(f.root(), f.Path("d2"), kTypeDir);
}

absl::Status OverwriteReplacesFile(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("a"), "new"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("b"), "old contents"));
  CONF_RETURN_IF_ERROR(
      ExpectOk(f.root().Rename(f.Path("a"), f.Path("b"), true)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), f.Path("a")));
  return f.ExpectContent(f.root(), f.Path("b"), "new");
}

// With overwrite, rename(2) rules: a directory replaces only an empty
// directory; every other mismatch is FAILED_PRECONDITION.
absl::Status OverwriteDirectoryRules(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("src")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("src/x"), "x"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("full")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("full/y"), "y"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("empty")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("file"), "f"));

  CONF_RETURN_IF_ERROR(ExpectCode(c.Rename(f.Path("src"), f.Path("full"), true),
                                  StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(
      ExpectCode(c.Rename(f.Path("file"), f.Path("empty"), true),
                 StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(ExpectCode(c.Rename(f.Path("src"), f.Path("file"), true),
                                  StatusCode::kFailedPrecondition));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("src/x"), "x"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("full/y"), "y"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("file"), "f"));
  CONF_RETURN_IF_ERROR(f.ExpectType(c, f.Path("empty"), kTypeDir));

  CONF_RETURN_IF_ERROR(
      ExpectOk(c.Rename(f.Path("src"), f.Path("empty"), true)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("src")));
  return f.ExpectContent(c, f.Path("empty/x"), "x");
}

absl::Status DirectoryWithContents(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d")));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d/sub")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("d/x"), "x"));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("d/sub/y"), "y"));
  CONF_RETURN_IF_ERROR(ExpectOk(c.Rename(f.Path("d"), f.Path("e"), false)));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(c, f.Path("d")));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("e/x"), "x"));
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("e/sub/y"), "y"));
  // The moved tree is fully usable under its new name.
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("e/sub/z"), "z"));
  return f.ExpectMissing(c, f.Path("d/sub/z"));
}

absl::Status DirectoryBeneathItself(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d")));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d/sub")));
  for (const bool overwrite : {false, true}) {
    CONF_RETURN_IF_ERROR(
        ExpectCode(c.Rename(f.Path("d"), f.Path("d/new"), overwrite),
                   StatusCode::kInvalidArgument));
    CONF_RETURN_IF_ERROR(
        ExpectCode(c.Rename(f.Path("d"), f.Path("d/sub/new"), overwrite),
                   StatusCode::kInvalidArgument));
  }
  return f.ExpectType(c, f.Path("d/sub"), kTypeDir);
}

absl::Status MissingTargetParent(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("a"), "A"));
  CONF_RETURN_IF_ERROR(
      ExpectCode(f.root().Rename(f.Path("a"), f.Path("missing/b"), false),
                 StatusCode::kNotFound));
  return f.ExpectContent(f.root(), f.Path("a"), "A");
}

// "Renaming a path onto itself succeeds and changes nothing."
absl::Status OntoItself(Fixture& f) {
  const Client& c = f.root();
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("a"), "A"));
  CONF_RETURN_IF_ERROR(f.MakeDir(c, f.Path("d")));
  CONF_RETURN_IF_ERROR(f.WriteFile(c, f.Path("d/x"), "x"));
  for (const bool overwrite : {false, true}) {
    CONF_RETURN_IF_ERROR(
        ExpectOk(c.Rename(f.Path("a"), f.Path("a"), overwrite)));
    CONF_RETURN_IF_ERROR(
        ExpectOk(c.Rename(f.Path("d"), f.Path("d"), overwrite)));
  }
  CONF_RETURN_IF_ERROR(f.ExpectContent(c, f.Path("a"), "A"));
  return f.ExpectContent(c, f.Path("d/x"), "x");
}

}  // namespace

void RegisterRenameChecks(Registry& registry) {
  registry.Add("rename.file", File);
  registry.Add("rename.onto_existing_without_overwrite",
               OntoExistingWithoutOverwrite);
  registry.Add("rename.overwrite_replaces_file", OverwriteReplacesFile);
  registry.Add("rename.overwrite_directory_rules", OverwriteDirectoryRules);
  registry.Add("rename.directory_with_contents", DirectoryWithContents);
  registry.Add("rename.directory_beneath_itself", DirectoryBeneathItself);
  registry.Add("rename.missing_target_parent", MissingTargetParent);
  registry.Add("rename.onto_itself", OntoItself);
}

}  // namespace sftpgate::conformance
