#include "server/ssh/host_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sftpgate::server {
namespace {

// Creates the missing directories of `dir` ("mkdir -p"), each with mode
// 0700: they hold a private key, and only the server's account needs them.
absl::Status MakeParentDirectories(const std::string& dir) {
  if (dir.empty() || dir == "/" || dir == ".") return absl::OkStatus();
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) return absl::OkStatus();
  const size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos) {
    absl::Status parent = MakeParentDirectories(dir.substr(0, slash));
    if (!parent.ok()) return parent;
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create the host key's directory ", dir, ": ",
                     std::strerror(errno)));
  }
  return absl::OkStatus();
}

// Whether the file at `path` begins like an OpenSSH or RFC 4716 public key
// ("ssh-ed25519 AAAA...", "ecdsa-sha2-...", "---- BEGIN SSH2 PUBLIC KEY"):
// the common mistake of naming the .pub file.
bool IsPublicKeyFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char head[32];
  const ssize_t n = read(fd, head, sizeof head);
  close(fd);
  if (n <= 0) return false;
  absl::string_view text(head, static_cast<size_t>(n));
  return absl::StartsWith(text, "ssh-") || absl::StartsWith(text, "ecdsa-") ||
         absl::StartsWith(text, "sk-") ||
         absl::StartsWith(text, "---- BEGIN SSH2 PUBLIC KEY");
}

absl::StatusOr<ssh_key> GenerateHostKey(const std::string& path) {
  ssh_key key = nullptr;
  if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK) {
    return absl::InternalError("generating an ed25519 host key failed");
  }
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    absl::Status dirs = MakeParentDirectories(path.substr(0, slash));
    if (!dirs.ok()) {
      ssh_key_free(key);
      return dirs;
    }
  }
  // Create the file ourselves with 0600 so the key is never readable by
  // others, not even for a moment; libssh then writes into it.
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    ssh_key_free(key);
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot create host key file ", path, ": ", std::strerror(err)));
  }
  close(fd);
  if (ssh_pki_export_privkey_file(key, nullptr, nullptr, nullptr,
                                  path.c_str()) != SSH_OK) {
    ssh_key_free(key);
    unlink(path.c_str());
    return absl::InternalError(
        absl::StrCat("cannot write host key file ", path));
  }
  chmod(path.c_str(), 0600);
  return key;
}

}  // namespace

absl::StatusOr<ssh_key> LoadOrCreateHostKey(const std::string& path,
                                            bool* generated) {
  if (generated != nullptr) *generated = false;
  struct stat st;
  if (stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    absl::StatusOr<ssh_key> key = GenerateHostKey(path);
    if (key.ok() && generated != nullptr) *generated = true;
    return key;
  }
  return LoadHostKey(path);
}

absl::StatusOr<ssh_key> LoadHostKey(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot read host key file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("host key file ", path, " is not a regular file"));
  }
  if (IsPublicKeyFile(path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "host key file ", path,
        " holds a public key; the host key must be the private key file "
        "(without .pub), or a path where sftpgate may generate one"));
  }
  if ((st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("host key file ", path,
                     " is accessible by group or others; chmod 600 it"));
  }
  if (access(path.c_str(), R_OK) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cannot read host key file ", path, ": ", std::strerror(errno)));
  }
  ssh_key key = nullptr;
  if (ssh_pki_import_privkey_file(path.c_str(), nullptr, nullptr, nullptr,
                                  &key) != SSH_OK ||
      key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("host key file ", path,
                     " is not an unencrypted private key libssh can read"));
  }
  return key;
}

std::string KeyFingerprint(const ssh_key key) {
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) !=
      SSH_OK) {
    return "unknown";
  }
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return "unknown";
  std::string result(text);
  ssh_string_free_char(text);
  return result;
}

}  // namespace sftpgate::server
