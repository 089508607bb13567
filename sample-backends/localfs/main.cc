// sftpgate-localfs-backend: serves a directory on disk to the sftpgate
// front end over gRPC.
//
//   sftpgate-localfs-backend --root /srv/sftp --listen 127.0.0.1:7000
//
// Each session sees <root>/<Session.root> as "/" (created on first use).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "backend_root.h"
#include "localfs_backend.h"
#include "sftpgate/backend_main.h"
#include "sftpgate/command_line.h"

ABSL_FLAG(std::string, root, "",
          "Directory to serve (required). Sessions are confined beneath "
          "it, each beneath its own Session.root.");
ABSL_FLAG(std::string, umask, "022",
          "Octal bits cleared from the mode of files and directories "
          "clients create (not from an explicit chmod).");
ABSL_FLAG(bool, allow_special_modes, false,
          "Apply setuid, setgid and sticky bits clients ask for (refused "
          "otherwise).");
ABSL_FLAG(bool, allow_chown, false,
          "Let clients change a file's owner or group (refused otherwise; "
          "effective only when the backend runs with that right).");

int main(int argc, char** argv) {
  sftpgate::ServeOptions options = sftpgate::ParseBackendFlags(
      argc, argv,
      "Usage: sftpgate-localfs-backend --root DIR --listen ADDR [flags]");
  const std::string root_dir = absl::GetFlag(FLAGS_root);
  if (root_dir.empty()) {
    sftpgate::ExitWithUsageError({sftpgate::ProgramName(argc, argv), ""},
                                 "--root is required");
  }
  absl::StatusOr<sftpgate::localfs::BackendRoot> root =
      sftpgate::localfs::BackendRoot::Open(root_dir);
  if (!root.ok()) return sftpgate::ExitCodeFor(root.status());
  sftpgate::localfs::ModePolicy modes;
  const std::string umask = absl::GetFlag(FLAGS_umask);
  char* end = nullptr;
  const long umask_bits = std::strtol(umask.c_str(), &end, 8);
  if (umask.empty() || *end != '\0' || umask_bits < 0 || umask_bits > 0777) {
    sftpgate::ExitWithUsageError({sftpgate::ProgramName(argc, argv), ""},
                                 "--umask must be octal, 000 to 777");
  }
  modes.umask = static_cast<mode_t>(umask_bits);
  modes.allow_special_bits = absl::GetFlag(FLAGS_allow_special_modes);
  modes.allow_chown = absl::GetFlag(FLAGS_allow_chown);
  // Uploads cut short by a kill of the previous process.
  const size_t swept = root->SweepUploadLeftovers();
  if (swept > 0) {
    std::fprintf(stderr, "removed %zu unfinished upload files\n", swept);
  }
  sftpgate::localfs::LocalFsBackend backend(*std::move(root), modes);
  return sftpgate::RunBackend(options, &backend);
}
