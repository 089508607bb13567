// LocalFileWriter: an upload into an anonymous temporary file in the
// target's directory (upload_staging.h), named and renamed over the target
// on Commit (so readers see the old file or the new one, never a part) and
// dropped on Abort.
//
// Thread safety: used by one thread at a time, as FileWriter says.

#ifndef SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_WRITER_H_
#define SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_WRITER_H_

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "session_tree.h"
#include "sftpgate/backend.h"
#include "unique_fd.h"

namespace sftpgate::localfs {

class LocalFileWriter : public FileWriter {
 public:
  // Starts an upload to `target` (a name that is not a symlink). `existing`
  // is the current file there, if any: its mode and owner carry over, and
  // without FLAG_TRUNCATE its contents are copied into the temporary file
  // first. A new file gets `new_file_mode`. `settable_bits` are the mode
  // bits the backend applies at all. `what` prefixes error messages.
  static absl::StatusOr<std::unique_ptr<LocalFileWriter>> Start(
      Target target, const WriteHeader& header,
      const std::optional<struct stat>& existing, mode_t new_file_mode,
      mode_t settable_bits, std::string what);

  ~LocalFileWriter() override;

  absl::Status Write(uint64_t offset, absl::string_view data) override;
  // Flushes the data to disk, then renames it into place (refusing to
  // replace an existing file with FLAG_EXCLUSIVE).
  absl::StatusOr<uint64_t> Commit() override;
  void Abort() override;

 private:
  LocalFileWriter(Target target, std::string temp_name, UniqueFd fd,
                  uint32_t flags, std::string what);

  absl::Status Fill(const std::optional<struct stat>& existing, mode_t mode);
  // Unlinks the named temporary file if there is one; ends the upload.
  void Discard();

  Target target_;
  // A named temporary file (only where O_TMPFILE is not supported); empty
  // for an anonymous one.
  std::string temp_name_;
  bool open_ = true;  // false once committed or discarded
  UniqueFd fd_;
  uint32_t flags_;  // WriteHeader::Flag bits
  std::string what_;
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_WRITER_H_
