// UniqueFd: sole owner of one file descriptor, closed on destruction.
//
// Thread safety: like any value type; one object is not shared between
// threads without outside locking.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UNIQUE_FD_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace sftpgate::localfs {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the held descriptor (if any) and takes `fd`.
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_UNIQUE_FD_H_
