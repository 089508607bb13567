// LocalFileReader: a FileReader over an open regular file, reading with
// pread(2) one chunk at a time (never the whole file).
//
// Thread safety: used by one thread at a time, as FileReader says.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_READER_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_READER_H_

#include <cstdint>
#include <string>

#include "sftpgate/backend.h"
#include "unique_fd.h"

namespace sftpgate::localfs {

class LocalFileReader : public FileReader {
 public:
  // Reads `fd` from `offset` on; `what` prefixes error messages.
  LocalFileReader(UniqueFd fd, uint64_t offset, std::string what)
      : fd_(std::move(fd)), offset_(offset), what_(std::move(what)) {}

  absl::Status Read(size_t max_bytes, std::string* data) override;

 private:
  UniqueFd fd_;
  uint64_t offset_;
  std::string what_;
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_READER_H_
