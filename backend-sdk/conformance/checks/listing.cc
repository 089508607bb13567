// listing.*: ListDir returns every entry exactly once, without "." and
// "..", each with the attributes Lstat gives, in ascending byte order of
// name, and honours start_after (the front end resumes a broken listing
// after the last name it received).

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

// "ünïcøde" in UTF-8: names are raw bytes and must survive unchanged.
constexpr char kUnicodeName[] =
    "\xc3\xbc"
    "n"
    "\xc3\xaf"
    "c"
    "\xc3\xb8"
    "de";

// Compares the fields both sides report; the listing must at least carry
// the mode (type bits are mandatory in responses) and a file's size.
absl::Status ExpectListedLikeLstat(const std::string& what,
                                   const v1::Attributes& lstat,
                                   const v1::Attributes& listed) {
  if (!listed.has_mode()) {
    return Fail(absl::StrCat("expected a mode for ", what, ", got none"));
  }
  CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("mode of ", what, " (vs Lstat)"),
                                ShowMode(lstat.mode()),
                                ShowMode(listed.mode())));
  if ((lstat.mode() & kTypeMask) == kTypeFile && !listed.has_size()) {
    return Fail(absl::StrCat("expected a size for ", what, ", got none"));
  }
  if (lstat.has_size() && listed.has_size()) {
    CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("size of ", what, " (vs Lstat)"),
                                  lstat.size(), listed.size()));
  }
  if (lstat.has_mtime() && listed.has_mtime()) {
    CONF_RETURN_IF_ERROR(
        ExpectEq(absl::StrCat("mtime of ", what, " (vs Lstat)"), lstat.mtime(),
                 listed.mtime()));
  }
  if (lstat.has_uid() && listed.has_uid()) {
    CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("uid of ", what, " (vs Lstat)"),
                                  lstat.uid(), listed.uid()));
  }
  if (lstat.has_gid() && listed.has_gid()) {
    CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("gid of ", what, " (vs Lstat)"),
                                  lstat.gid(), listed.gid()));
  }
  return absl::OkStatus();
}

absl::Status EmptyDir(Fixture& f) {
  return f.ExpectNames(f.root(), f.dir(), {}).status();
}

absl::Status EntriesMatchLstat(Fixture& f) {
  std::set<std::string> names = {"file", "empty", "sub", "with space",
                                 kUnicodeName};
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("file"), "0123456789"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("empty"), ""));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("sub")));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("with space"), "s"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path(kUnicodeName), "u"));
  if (f.describe().symlinks()) {
    // Listed as the link itself, not as the file it points to.
    names.insert("link");
    CONF_RETURN_IF_ERROR(ExpectOk(f.root().Symlink(f.Path("link"), "file")));
  }
  CONF_ASSIGN_OR_RETURN(const std::vector<v1::DirEntry> entries,
                        f.ExpectNames(f.root(), f.dir(), names));
  for (const v1::DirEntry& entry : entries) {
    CONF_ASSIGN_OR_RETURN(const v1::Attributes lstat,
                          f.StatOk(f.root(), f.Path(entry.name()), false));
    CONF_RETURN_IF_ERROR(
        ExpectListedLikeLstat(absl::StrCat("listed ", Show(entry.name())),
                              lstat, entry.attributes()));
  }
  return absl::OkStatus();
}

// Larger than any sensible batch: every entry must still arrive exactly
// once (batching itself is the backend's choice).
absl::Status LargeDirectory(Fixture& f) {
  constexpr int kDirs = 500;
  constexpr int kFiles = 1000;
  std::set<std::string> names;
  for (int i = 0; i < kDirs + kFiles; ++i) {
    const std::string name = absl::StrFormat("entry-%04d", i);
    names.insert(name);
    CONF_RETURN_IF_ERROR(i < kDirs ? f.MakeDir(f.root(), f.Path(name))
                                   : f.WriteFile(f.root(), f.Path(name), name));
  }
  CONF_ASSIGN_OR_RETURN(const std::vector<v1::DirEntry> entries,
                        f.ExpectNames(f.root(), f.dir(), names));
  for (const v1::DirEntry& entry : entries) {
    const bool is_dir = entry.name() < absl::StrFormat("entry-%04d", kDirs);
    const uint32_t type = entry.attributes().mode() & kTypeMask;
    CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("type of listed ", entry.name()),
                                  TypeName(is_dir ? kTypeDir : kTypeFile),
                                  TypeName(type)));
  }
  return absl::OkStatus();
}

// Names whose creation order differs from their sorted order, with
// punctuation sorting before and after '/' and a directory among them
// (object stores list "d/" after "d-x"), in directory f.dir().
absl::StatusOr<std::vector<std::string>> MakeScrambledNames(Fixture& f,
                                                            int files) {
  std::vector<std::string> names;
  for (int i = 0; i < files; ++i) {
    const std::string name = absl::StrFormat("n%03d", (i * 7919) % files);
    names.push_back(name);
    CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path(name), ""));
  }
  for (const char* name : {"n100-x", "n100.txt", "n100~"}) {
    names.push_back(name);
    CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path(name), ""));
  }
  // "n100" becomes a directory.
  CONF_RETURN_IF_ERROR(ExpectOk(f.root().Remove(f.Path("n100"))));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("n100")));
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status ExpectInOrder(const std::string& what,
                           const std::vector<std::string>& expected,
                           const std::vector<v1::DirEntry>& got) {
  for (size_t i = 0; i < expected.size() && i < got.size(); ++i) {
    if (got[i].name() != expected[i]) {
      return Fail(absl::StrCat("expected names in ascending byte order from ",
                               what, ": ", Show(expected[i]), " at position ",
                               i, ", got ", Show(got[i].name())));
    }
  }
  return ExpectEq(absl::StrCat("number of entries from ", what),
                  expected.size(), got.size());
}

// The front end resumes a listing whose stream broke (a replica died)
// after the last name it received: entries come in ascending byte order of
// name, every time.
absl::Status NameOrder(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const std::vector<std::string> names,
                        MakeScrambledNames(f, 300));
  const std::set<std::string> set(names.begin(), names.end());
  for (const char* what : {"a listing", "a second listing"}) {
    CONF_ASSIGN_OR_RETURN(const std::vector<v1::DirEntry> listed,
                          f.ExpectNames(f.root(), f.dir(), set));
    CONF_RETURN_IF_ERROR(ExpectInOrder(what, names, listed));
  }
  return absl::OkStatus();
}

// ListDirRequest.start_after: only the names after it, whether or not it
// exists; nothing after the last; everything before the first.
absl::Status StartAfter(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const std::vector<std::string> names,
                        MakeScrambledNames(f, 300));
  for (const std::string& start_after : std::vector<std::string>{
           "n149", "n149!", "n100", "n100-x", "n299", "m", "o"}) {
    std::vector<std::string> expected;
    for (const std::string& name : names) {
      if (name > start_after) expected.push_back(name);
    }
    const Reply<Listing> reply = f.root().ListDir(f.dir(), start_after);
    CONF_RETURN_IF_ERROR(ExpectOk(reply));
    CONF_RETURN_IF_ERROR(
        ExpectInOrder(reply.call(), expected, reply.value().entries));
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterListingChecks(Registry& registry) {
  registry.Add("listing.name_order", NameOrder);
  registry.Add("listing.start_after", StartAfter);
  registry.Add("listing.empty_dir", EmptyDir);
  registry.Add("listing.entries_match_lstat", EntriesMatchLstat);
  registry.Add("listing.large_dir_1500_entries", LargeDirectory);
}

}  // namespace sftpgate::conformance
