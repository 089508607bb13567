// File contents of the memory backend, stored as fixed-size blocks.
//
// A published FileData is immutable and shared through
// std::shared_ptr<const FileData>: a reader keeps the snapshot it opened
// and is never affected by later writes. Writers stage changes in a
// FileDataBuilder, which shares untouched blocks with its base and copies a
// block only when it writes into it (copy-on-write), so an upload never
// reallocates one giant buffer and unchanged parts cost nothing.
//
// Thread safety: a FileData is immutable, so safe to read concurrently. A
// FileDataBuilder is used by one thread at a time.

#ifndef SFTPGATE_SAMPLE_BACKENDS_MEMORY_FILE_DATA_H_
#define SFTPGATE_SAMPLE_BACKENDS_MEMORY_FILE_DATA_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace sftpgate::memory {

class FileData {
 public:
  static constexpr size_t kBlockSize = 64 * 1024;

  uint64_t size() const { return size_; }

  // Replaces *out with up to `max_bytes` bytes from `offset`: fewer at end
  // of file, none at or after it. Holes read as zeros.
  void Read(uint64_t offset, size_t max_bytes, std::string* out) const;

 private:
  friend class FileDataBuilder;

  uint64_t size_ = 0;
  // blocks_[i] holds bytes [i * kBlockSize, ...); a null block is a hole
  // and a block shorter than kBlockSize is followed by zeros. Blocks of a
  // published FileData are never modified.
  std::vector<std::shared_ptr<std::string>> blocks_;
};

class FileDataBuilder {
 public:
  // An empty file.
  FileDataBuilder() = default;
  // Starts from `base`'s contents, sharing its blocks until written.
  explicit FileDataBuilder(const FileData& base);

  uint64_t size() const { return data_.size_; }

  // Writes `bytes` at `offset`, growing the file (with zeros in any gap).
  void Write(uint64_t offset, absl::string_view bytes);
  // Truncates or extends (with zeros) to `size`.
  void Resize(uint64_t size);

  // The finished, immutable contents. The builder is empty afterwards.
  std::shared_ptr<const FileData> Build();

 private:
  // Makes block `index` private to this builder and returns it.
  std::string& OwnBlock(size_t index);

  FileData data_;
  std::vector<bool> owned_;
};

}  // namespace sftpgate::memory

#endif  // SFTPGATE_SAMPLE_BACKENDS_MEMORY_FILE_DATA_H_
