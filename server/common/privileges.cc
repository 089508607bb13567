#include "server/common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sftpgate::server {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<RunAsUser> LookUpRunAsUser(const std::string& user) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? size : 16384);
  passwd entry{};
  passwd* found = nullptr;
  uid_t uid = 0;
  int rc = absl::SimpleAtoi(user, &uid)
               ? getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found)
               : getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(),
                            &found);
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "--run-as: no user \"", user, "\"",
        rc != 0 ? absl::StrCat(" (", std::strerror(rc), ")") : ""));
  }
  if (found->pw_uid == 0 || found->pw_gid == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--run-as: user \"", user,
                     "\" has uid or gid 0; name an unprivileged user"));
  }
  return RunAsUser{found->pw_name, found->pw_uid, found->pw_gid};
}

absl::Status DropPrivileges(const RunAsUser& user) {
  if (getuid() == user.uid && geteuid() == user.uid && getgid() == user.gid &&
      getegid() == user.gid) {
    return absl::OkStatus();
  }
  if (geteuid() != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "--run-as ", user.name, ": only root can switch users (running as uid ",
        geteuid(), ")"));
  }
  // Supplementary groups first (root's would otherwise survive), then the
  // group while we may still change it, then the user.
  if (setgroups(1, &user.gid) != 0) return Errno("setgroups");
  if (setresgid(user.gid, user.gid, user.gid) != 0) return Errno("setgid");
  if (setresuid(user.uid, user.uid, user.uid) != 0) return Errno("setuid");
  // Verify: every id is the new one, and neither root id can come back.
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  if (ruid != user.uid || euid != user.uid || suid != user.uid ||
      rgid != user.gid || egid != user.gid || sgid != user.gid) {
    return absl::InternalError("--run-as: ids did not all change");
  }
  if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0) {
    return absl::InternalError("--run-as: root could be regained");
  }
  gid_t groups[2];
  int count = getgroups(2, groups);
  if (count != 1 || groups[0] != user.gid) {
    return absl::InternalError("--run-as: supplementary groups remain");
  }
  return absl::OkStatus();
}

}  // namespace sftpgate::server
