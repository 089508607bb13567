#include "localfs_test_env.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "backend_root.h"
#include "tests/sdk/testing/local_server.h"
#include "upload_staging.h"

namespace sftpgate::localfs::testing {
namespace {

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  ::remove(path);
  return 0;
}

// Calls `visit` for every entry beneath `dir` (paths relative to it),
// without following symlinks, skipping `exclude`.
void Walk(
    const std::string& dir, const std::string& rel, const std::string& exclude,
    const std::function<void(const std::string&, const struct stat&)>& visit) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = absl::StrCat(dir, "/", name);
    if (path == exclude) continue;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    const std::string child = absl::StrCat(rel, "/", name);
    visit(child, st);
    if (S_ISDIR(st.st_mode)) Walk(path, child, exclude, visit);
  }
  ::closedir(d);
}

}  // namespace

TempDir::TempDir() {
  const char* tmp = ::getenv("TMPDIR");
  std::string templ =
      absl::StrCat(tmp != nullptr && *tmp ? tmp : "/tmp", "/localfs-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
  }
  path_ = templ;
}

TempDir::~TempDir() {
  ::nftw(path_.c_str(), RemoveEntry, 64, FTW_DEPTH | FTW_PHYS);
}

std::string TempDir::Sub(absl::string_view rel) const {
  return absl::StrCat(path_, "/", rel);
}

void WriteDiskFile(const std::string& path, absl::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
  ASSERT_EQ(::write(fd, content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
  ::close(fd);
}

std::string ReadDiskFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    ADD_FAILURE() << path << ": " << std::strerror(errno);
    return "";
  }
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  ::close(fd);
  return out;
}

void MakeDiskDir(const std::string& path) {
  ASSERT_EQ(::mkdir(path.c_str(), 0755), 0)
      << path << ": " << std::strerror(errno);
}

void MakeDiskSymlink(const std::string& target, const std::string& path) {
  ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0)
      << path << ": " << std::strerror(errno);
}

bool DiskExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> TempFilesIn(const std::string& dir) {
  std::vector<std::string> names;
  Walk(dir, "", "", [&](const std::string& rel, const struct stat&) {
    if (absl::StrContains(rel, kTempPrefix)) names.push_back(rel);
  });
  return names;
}

std::map<std::string, std::string> SnapshotTree(const std::string& dir,
                                                const std::string& exclude) {
  std::map<std::string, std::string> snapshot;
  Walk(dir, "", exclude, [&](const std::string& rel, const struct stat& st) {
    std::string desc = absl::StrCat(
        "mode=", st.st_mode, " uid=", st.st_uid, " gid=", st.st_gid,
        " size=", st.st_size, " nlink=", st.st_nlink,
        " mtime=", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec,
        " ctime=", st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
    const std::string path = dir + rel;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(path.c_str(), target, sizeof(target));
      if (n >= 0) absl::StrAppend(&desc, " -> ", std::string(target, n));
    } else if (S_ISREG(st.st_mode)) {
      absl::StrAppend(&desc, " content=", ReadDiskFile(path));
    }
    snapshot[rel] = desc;
  });
  return snapshot;
}

void LocalFsTest::SetUp() {
  root_ = base_.Sub("root");
  MakeDiskDir(root_);
  absl::StatusOr<BackendRoot> root = BackendRoot::Open(root_);
  ASSERT_TRUE(root.ok()) << root.status();
  backend_ = std::make_unique<LocalFsBackend>(*std::move(root));
  auto server = sftpgate::testing::StartLocalServer(backend_.get());
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
  client_ = std::make_unique<TestClient>(
      sftpgate::testing::MakeChannel(sftpgate::testing::LocalTarget(*server_)),
      SessionBuilder().Build());
}

void LocalFsTest::TearDown() {
  client_.reset();
  if (server_ != nullptr) server_->Shutdown();
}

TestClient LocalFsTest::ClientFor(const Session& session) const {
  return client_->WithSession(session);
}

std::string LocalFsTest::Disk(absl::string_view session_path) const {
  return absl::StrCat(root_, session_path);
}

}  // namespace sftpgate::localfs::testing
