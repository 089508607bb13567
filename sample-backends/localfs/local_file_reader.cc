#include "local_file_reader.h"

#include <errno.h>
#include <unistd.h>

#include <limits>

#include "errno_status.h"

namespace sftpgate::localfs {

absl::Status LocalFileReader::Read(size_t max_bytes, std::string* data) {
  data->resize(max_bytes);
  if (offset_ > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
    data->clear();  // beyond any possible end of file
    return absl::OkStatus();
  }
  ssize_t n;
  do {
    n = ::pread(fd_.get(), data->data(), max_bytes,
                static_cast<off_t>(offset_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    data->clear();
    return StatusFromErrno(errno, what_);
  }
  data->resize(n);
  offset_ += n;
  return absl::OkStatus();
}

}  // namespace sftpgate::localfs
