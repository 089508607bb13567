// sftpgate-localfs-backend: serves a directory on disk to the sftpgate
// front end over gRPC.
//
//   sftpgate-localfs-backend --root /srv/sftp --listen 127.0.0.1:7000
//
// Each session sees <root>/<Session.root> as "/" (created on first use).

#include <string>

#include "absl/flags/flag.h"
#include "backend_root.h"
#include "localfs_backend.h"
#include "sftpgate/backend_main.h"
#include "sftpgate/command_line.h"

ABSL_FLAG(std::string, root, "",
          "Directory to serve (required). Sessions are confined beneath "
          "it, each beneath its own Session.root.");

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
  sftpgate::localfs::LocalFsBackend backend(*std::move(root));
  return sftpgate::RunBackend(options, &backend);
}
