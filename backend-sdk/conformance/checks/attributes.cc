// attributes.*: the shape of Stat answers and the effect of SetStat.

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

constexpr uint32_t kPermissionMask = 07777;
// A fresh file's mtime must be "now"; this much clock skew is tolerated.
constexpr int64_t kClockSlackSeconds = 24 * 3600;

// Mode must be present, with `type` bits and, when perms >= 0, exactly
// those permission bits.
absl::Status ExpectMode(const v1::Attributes& a, absl::string_view call,
                        uint32_t type, int perms = -1) {
  if (!a.has_mode()) {
    return Fail(absl::StrCat("expected a mode from ", call, ", got none"));
  }
  CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("type from ", call),
                                TypeName(type),
                                TypeName(a.mode() & kTypeMask)));
  if (perms < 0) return absl::OkStatus();
  return ExpectEq(absl::StrCat("permission bits from ", call), ShowMode(perms),
                  ShowMode(a.mode() & kPermissionMask));
}

absl::Status ExpectSize(const v1::Attributes& a, absl::string_view call,
                        uint64_t size) {
  if (!a.has_size()) {
    return Fail(absl::StrCat("expected a size from ", call, ", got none"));
  }
  return ExpectEq(absl::StrCat("size from ", call), size, a.size());
}

v1::Attributes Mode(uint32_t mode) {
  v1::Attributes a;
  a.set_mode(mode);
  return a;
}

v1::Attributes Size(uint64_t size) {
  v1::Attributes a;
  a.set_size(size);
  return a;
}

absl::Status RegularFile(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "hello"));
  const Reply<v1::Attributes> stat = f.root().Stat(path, true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  CONF_RETURN_IF_ERROR(ExpectMode(a, stat.call(), kTypeFile));
  CONF_RETURN_IF_ERROR(ExpectSize(a, stat.call(), 5));
  if (!a.has_mtime()) {
    return Fail(
        absl::StrCat("expected an mtime from ", stat.call(), ", got none"));
  }
  const int64_t now = absl::ToUnixSeconds(absl::Now());
  return ExpectThat(a.mtime() > now - kClockSlackSeconds &&
                        a.mtime() < now + kClockSlackSeconds,
                    absl::StrCat("mtime of a new file near now (", now,
                                 ") from ", stat.call()),
                    absl::StrCat(a.mtime()));
}

absl::Status Directory(Fixture& f) {
  const std::string path = f.Path("dir");
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), path));
  for (const bool follow : {true, false}) {
    const Reply<v1::Attributes> stat = f.root().Stat(path, follow);
    CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
    CONF_RETURN_IF_ERROR(ExpectMode(a, stat.call(), kTypeDir));
  }
  return absl::OkStatus();
}

// Without symlinks in the way, Stat and Lstat describe the same thing.
absl::Status LstatOfFileEqualsStat(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "contents"));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes stat,
                        f.StatOk(f.root(), path, true));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes lstat,
                        f.StatOk(f.root(), path, false));
  return ExpectEq("Lstat of a regular file (vs Stat)", stat.ShortDebugString(),
                  lstat.ShortDebugString());
}

absl::Status SizeMatchesWritten(Fixture& f) {
  for (const size_t size : {size_t{0}, size_t{1}, size_t{f.chunk_size()} + 1}) {
    const std::string path = f.Path(absl::StrCat("size-", size));
    CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, PatternBytes(size, 1)));
    const Reply<v1::Attributes> stat = f.root().Stat(path, true);
    CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
    CONF_RETURN_IF_ERROR(ExpectSize(a, stat.call(), size));
  }
  return absl::OkStatus();
}

absl::Status SetStatMode(Fixture& f) {
  const std::string file = f.Path("file");
  const std::string dir = f.Path("dir");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), file, "x"));
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), dir));
  // Clients (e.g. `put -p`) send the type bits along; only the permission
  // bits may take effect.
  struct Case {
    const std::string& path;
    uint32_t type;
    uint32_t perms;
  };
  for (const Case& c :
       {Case{file, kTypeFile, 0600}, Case{file, kTypeFile, 0640},
        Case{dir, kTypeDir, 0700}, Case{dir, kTypeDir, 0755}}) {
    CONF_RETURN_IF_ERROR(
        ExpectOk(f.root().SetStat(c.path, Mode(c.type | c.perms), true)));
    const Reply<v1::Attributes> stat = f.root().Stat(c.path, true);
    CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
    CONF_RETURN_IF_ERROR(ExpectMode(a, stat.call(), c.type, c.perms));
  }
  return absl::OkStatus();
}

absl::Status SetStatTimes(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "x"));
  v1::Attributes times;
  times.set_atime(1000000000);
  times.set_mtime(1234567890);
  CONF_RETURN_IF_ERROR(ExpectOk(f.root().SetStat(path, times, true)));
  const Reply<v1::Attributes> stat = f.root().Stat(path, true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("mtime from ", stat.call()),
                                Show(times.mtime()),
                                a.has_mtime() ? Show(a.mtime()) : "unset"));
  // atime may be unknown (unset) in answers; if reported it must be ours.
  if (!a.has_atime()) return absl::OkStatus();
  return ExpectEq(absl::StrCat("atime from ", stat.call()), times.atime(),
                  a.atime());
}

absl::Status SetStatTruncate(Fixture& f) {
  const std::string path = f.Path("file");
  const std::string data = PatternBytes(1000, 2);
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, data));
  CONF_RETURN_IF_ERROR(ExpectOk(f.root().SetStat(path, Size(10), true)));
  const Reply<v1::Attributes> stat = f.root().Stat(path, true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  CONF_RETURN_IF_ERROR(ExpectSize(a, stat.call(), 10));
  return f.ExpectContent(f.root(), path, data.substr(0, 10));
}

absl::Status SetStatExtend(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "abc"));
  constexpr uint64_t kSize = 70000;
  CONF_RETURN_IF_ERROR(ExpectOk(f.root().SetStat(path, Size(kSize), true)));
  const Reply<v1::Attributes> stat = f.root().Stat(path, true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes a, Require(stat));
  CONF_RETURN_IF_ERROR(ExpectSize(a, stat.call(), kSize));
  return f.ExpectContent(f.root(), path, "abc" + std::string(kSize - 3, '\0'));
}

// "Only the set fields change": a mode change keeps size and mtime, and an
// empty SetStat changes nothing.
absl::Status SetStatChangesOnlySetFields(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "twelve bytes"));
  v1::Attributes mtime;
  mtime.set_mtime(1234567890);
  CONF_RETURN_IF_ERROR(ExpectOk(f.root().SetStat(path, mtime, true)));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes before,
                        f.StatOk(f.root(), path, true));

  CONF_RETURN_IF_ERROR(
      ExpectOk(f.root().SetStat(path, v1::Attributes(), true)));
  CONF_ASSIGN_OR_RETURN(const v1::Attributes unchanged,
                        f.StatOk(f.root(), path, true));
  CONF_RETURN_IF_ERROR(ExpectEq("attributes after an empty SetStat",
                                before.ShortDebugString(),
                                unchanged.ShortDebugString()));

  CONF_RETURN_IF_ERROR(ExpectOk(f.root().SetStat(path, Mode(0600), true)));
  const Reply<v1::Attributes> stat = f.root().Stat(path, true);
  CONF_ASSIGN_OR_RETURN(const v1::Attributes after, Require(stat));
  CONF_RETURN_IF_ERROR(ExpectSize(after, stat.call(), 12));
  CONF_RETURN_IF_ERROR(
      ExpectEq("mtime after a SetStat of the mode only", Show(mtime.mtime()),
               after.has_mtime() ? Show(after.mtime()) : "unset"));
  return f.ExpectContent(f.root(), path, "twelve bytes");
}

}  // namespace

void RegisterAttributeChecks(Registry& registry) {
  registry.Add("attributes.regular_file", RegularFile);
  registry.Add("attributes.directory", Directory);
  registry.Add("attributes.lstat_of_file_equals_stat", LstatOfFileEqualsStat);
  registry.Add("attributes.size_matches_written", SizeMatchesWritten);
  registry.Add("attributes.setstat_mode", SetStatMode);
  registry.Add("attributes.setstat_times", SetStatTimes);
  registry.Add("attributes.setstat_truncate", SetStatTruncate);
  registry.Add("attributes.setstat_extend_reads_zeros", SetStatExtend);
  registry.Add("attributes.setstat_changes_only_set_fields",
               SetStatChangesOnlySetFields);
}

}  // namespace sftpgate::conformance
