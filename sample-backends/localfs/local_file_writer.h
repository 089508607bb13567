// LocalFileWriter: an upload into a hidden temporary file in the target's
// directory, renamed over the target on Commit (so readers see the old file
// or the new one, never a part) and unlinked on Abort.
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

// Names of in-progress uploads start with this; listings leave them out.
inline constexpr absl::string_view kTempPrefix = ".sftpgate-tmp-";

class LocalFileWriter : public FileWriter {
 public:
  // Starts an upload to `target` (a name that is not a symlink). `existing`
  // is the current file there, if any: its mode and owner carry over, and
  // without FLAG_TRUNCATE its contents are copied into the temporary file
  // first. A new file gets the header's permission bits (default 0644).
  // `what` prefixes error messages.
  static absl::StatusOr<std::unique_ptr<LocalFileWriter>> Start(
      Target target, const WriteHeader& header,
      const std::optional<struct stat>& existing, std::string what);

  ~LocalFileWriter() override;

  absl::Status Write(uint64_t offset, absl::string_view data) override;
  // Flushes the data to disk, then renames it into place (refusing to
  // replace an existing file with FLAG_EXCLUSIVE).
  absl::StatusOr<uint64_t> Commit() override;
  void Abort() override;

 private:
  LocalFileWriter(Target target, std::string temp_name, UniqueFd fd,
                  uint32_t flags, std::string what);

  absl::Status Fill(const WriteHeader& header,
                    const std::optional<struct stat>& existing);
  // Unlinks the temporary file if it is still there.
  void Discard();

  Target target_;
  std::string temp_name_;  // empty once committed or discarded
  UniqueFd fd_;
  uint32_t flags_;  // WriteHeader::Flag bits
  std::string what_;
};

}  // namespace sftpgate::localfs

#endif  // SFTPGATE_SAMPLE_BACKENDS_LOCALFS_LOCAL_FILE_WRITER_H_
