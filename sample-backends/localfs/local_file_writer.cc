#include "local_file_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errno_status.h"
#include "mode_bits.h"
#include "sftpgate/attributes.h"

namespace sftpgate::localfs {
namespace {

constexpr int kMaxNameAttempts = 16;
constexpr size_t kCopyChunk = 1 << 20;

std::string RandomSuffix() {
  char bytes[8] = {};
  // getrandom of <= 256 bytes from the urandom pool does not fail once the
  // pool is initialized; a short read only makes a collision more likely,
  // which O_EXCL handles.
  (void)::getrandom(bytes, sizeof(bytes), 0);
  return absl::BytesToHexString(absl::string_view(bytes, sizeof(bytes)));
}

// Writes all of `data` at `offset` (or at the end, for an O_APPEND fd when
// `offset` is negative).
int WriteAll(int fd, absl::string_view data, off_t offset) {
  while (!data.empty()) {
    ssize_t n = offset < 0 ? ::write(fd, data.data(), data.size())
                           : ::pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    data.remove_prefix(n);
    if (offset >= 0) offset += n;
  }
  return 0;
}

// Copies all of `src` into `dst` (both at offset 0), in the kernel when the
// filesystem allows, else through a bounded buffer.
int CopyAll(int src, int dst) {
  loff_t in = 0, out = 0;
  for (;;) {
    ssize_t n = ::copy_file_range(src, &in, dst, &out, kCopyChunk, 0);
    if (n == 0) return 0;
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP &&
        errno != ENOSYS) {
      return -1;
    }
    break;  // not supported here: copy by hand from where it stopped
  }
  std::vector<char> buf(kCopyChunk);
  for (;;) {
    ssize_t n = ::pread(src, buf.data(), buf.size(), in);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return static_cast<int>(n);
    if (WriteAll(dst, absl::string_view(buf.data(), n), in) != 0) return -1;
    in += n;
  }
}

}  // namespace

LocalFileWriter::LocalFileWriter(Target target, std::string temp_name,
                                 UniqueFd fd, uint32_t flags, std::string what)
    : target_(std::move(target)),
      temp_name_(std::move(temp_name)),
      fd_(std::move(fd)),
      flags_(flags),
      what_(std::move(what)) {}

LocalFileWriter::~LocalFileWriter() { Discard(); }

absl::StatusOr<std::unique_ptr<LocalFileWriter>> LocalFileWriter::Start(
    Target target, const WriteHeader& header,
    const std::optional<struct stat>& existing, std::string what) {
  std::string temp_name;
  UniqueFd fd;
  for (int attempt = 0; !fd.valid(); ++attempt) {
    temp_name = absl::StrCat(kTempPrefix, RandomSuffix());
    fd.reset(::openat(target.dir.get(), temp_name.c_str(),
                      O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                      0600));
    if (!fd.valid() && (errno != EEXIST || attempt == kMaxNameAttempts)) {
      return StatusFromErrno(errno, what);
    }
  }
  // From here on the writer owns the temporary file and removes it on any
  // failure.
  std::unique_ptr<LocalFileWriter> writer(
      new LocalFileWriter(std::move(target), std::move(temp_name),
                          std::move(fd), header.flags(), std::move(what)));
  absl::Status filled = writer->Fill(header, existing);
  if (!filled.ok()) return filled;
  return writer;
}

absl::Status LocalFileWriter::Fill(const WriteHeader& header,
                                   const std::optional<struct stat>& existing) {
  mode_t mode = PermissionsOr(header.attributes(), kDefaultFilePermissions);
  if (existing.has_value()) {
    // Best effort: only a privileged backend may give the file away.
    (void)::fchown(fd_.get(), existing->st_uid, existing->st_gid);
    mode = existing->st_mode;
    if (!(flags_ & WriteHeader::FLAG_TRUNCATE)) {
      UniqueFd src(::openat(target_.dir.get(), target_.name.c_str(),
                            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!src.valid() || CopyAll(src.get(), fd_.get()) != 0) {
        return StatusFromErrno(errno, what_);
      }
    }
  }
  if (::fchmod(fd_.get(), mode & kSettableModeBits) != 0) {
    return StatusFromErrno(errno, what_);
  }
  if ((flags_ & WriteHeader::FLAG_APPEND) &&
      ::fcntl(fd_.get(), F_SETFL, O_APPEND) != 0) {
    return StatusFromErrno(errno, what_);
  }
  return absl::OkStatus();
}

absl::Status LocalFileWriter::Write(uint64_t offset, absl::string_view data) {
  if (temp_name_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what_, ": closed"));
  }
  off_t at = -1;  // append
  if (!(flags_ & WriteHeader::FLAG_APPEND)) {
    constexpr uint64_t kMax = std::numeric_limits<off_t>::max();
    if (offset > kMax || data.size() > kMax - offset) {
      return StatusFromErrno(EFBIG, what_);
    }
    at = static_cast<off_t>(offset);
  }
  if (WriteAll(fd_.get(), data, at) != 0) return StatusFromErrno(errno, what_);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> LocalFileWriter::Commit() {
  if (temp_name_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what_, ": closed"));
  }
  // Data first, then the name: after a crash the path holds the old file or
  // the whole new one.
  const unsigned rename_flags =
      (flags_ & WriteHeader::FLAG_EXCLUSIVE) ? RENAME_NOREPLACE : 0;
  struct stat st;
  if (::fdatasync(fd_.get()) != 0 || ::fstat(fd_.get(), &st) != 0 ||
      ::renameat2(target_.dir.get(), temp_name_.c_str(), target_.dir.get(),
                  target_.name.c_str(), rename_flags) != 0) {
    absl::Status status = StatusFromErrno(errno, what_);
    Discard();
    return status;
  }
  temp_name_.clear();
  return static_cast<uint64_t>(st.st_size);
}

void LocalFileWriter::Abort() { Discard(); }

void LocalFileWriter::Discard() {
  if (temp_name_.empty()) return;
  ::unlinkat(target_.dir.get(), temp_name_.c_str(), 0);
  temp_name_.clear();
}

}  // namespace sftpgate::localfs
