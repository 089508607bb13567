#include "local_file_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errno_status.h"
#include "sftpgate/attributes.h"
#include "upload_staging.h"

namespace sftpgate::localfs {
namespace {

constexpr size_t kCopyChunk = 1 << 20;

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
    const std::optional<struct stat>& existing, mode_t new_file_mode,
    mode_t settable_bits, std::string what) {
  std::string temp_name;
  UniqueFd fd(
      ::openat(target.dir.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
      return StatusFromErrno(errno, what);
    }
    // No O_TMPFILE on this filesystem: a marked, named file instead.
    fd.reset(CreateMarkedTemp(target.dir.get(), &temp_name));
    if (!fd.valid()) return StatusFromErrno(errno, what);
  }
  // From here on the writer owns the temporary file and drops it on any
  // failure.
  std::unique_ptr<LocalFileWriter> writer(
      new LocalFileWriter(std::move(target), std::move(temp_name),
                          std::move(fd), header.flags(), std::move(what)));
  absl::Status filled = writer->Fill(
      existing, (existing.has_value() ? existing->st_mode : new_file_mode) &
                    settable_bits);
  if (!filled.ok()) return filled;
  return writer;
}

absl::Status LocalFileWriter::Fill(const std::optional<struct stat>& existing,
                                   mode_t mode) {
  if (existing.has_value()) {
    // The replacement keeps the owner and group, as a write in place
    // would, as far as the backend may set them: only a privileged one can
    // give the file away; an unprivileged one can still keep a group it
    // belongs to. Before fchmod, which chown would strip set-ID bits from.
    if (::fchown(fd_.get(), existing->st_uid, existing->st_gid) != 0) {
      (void)::fchown(fd_.get(), -1, existing->st_gid);
    }
    if (!(flags_ & WriteHeader::FLAG_TRUNCATE)) {
      UniqueFd src(::openat(target_.dir.get(), target_.name.c_str(),
                            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!src.valid() || CopyAll(src.get(), fd_.get()) != 0) {
        return StatusFromErrno(errno, what_);
      }
    }
  }
  if (::fchmod(fd_.get(), mode) != 0) {
    return StatusFromErrno(errno, what_);
  }
  if ((flags_ & WriteHeader::FLAG_APPEND) &&
      ::fcntl(fd_.get(), F_SETFL, O_APPEND) != 0) {
    return StatusFromErrno(errno, what_);
  }
  return absl::OkStatus();
}

absl::Status LocalFileWriter::Write(uint64_t offset, absl::string_view data) {
  if (!open_) {
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
  if (!open_) {
    return absl::FailedPreconditionError(absl::StrCat(what_, ": closed"));
  }
  // Data first, then the name: after a crash the path holds the old file or
  // the whole new one.
  const unsigned rename_flags =
      (flags_ & WriteHeader::FLAG_EXCLUSIVE) ? RENAME_NOREPLACE : 0;
  struct stat st;
  if (::fdatasync(fd_.get()) != 0 || ::fstat(fd_.get(), &st) != 0 ||
      (temp_name_.empty() &&
       LinkMarkedTemp(fd_.get(), target_.dir.get(), &temp_name_) != 0) ||
      ::renameat2(target_.dir.get(), temp_name_.c_str(), target_.dir.get(),
                  target_.name.c_str(), rename_flags) != 0) {
    absl::Status status = StatusFromErrno(errno, what_);
    Discard();
    return status;
  }
  // The file is the user's now: no longer a leftover of ours.
  (void)::fremovexattr(fd_.get(), kUploadMarker);
  temp_name_.clear();
  open_ = false;
  return static_cast<uint64_t>(st.st_size);
}

void LocalFileWriter::Abort() { Discard(); }

void LocalFileWriter::Discard() {
  if (!temp_name_.empty()) ::unlinkat(target_.dir.get(), temp_name_.c_str(), 0);
  temp_name_.clear();
  open_ = false;
}

}  // namespace sftpgate::localfs
