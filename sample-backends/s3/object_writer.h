// ObjectWriter: builds one object from a sequence of pieces (bytes the
// client wrote, ranges of an existing object, zeros) and publishes it
// atomically at Commit. Small results are one PUT; once the bytes reach
// one part they stream out as a multipart upload, `part_size` bytes at a
// time (at most one part is buffered). Ranges of an existing object of at
// least 5 MiB that start a part are copied server-side (UploadPartCopy),
// which is how a resumed upload (`reput`), an in-place update, a truncate
// or a rename of a file over 5 GiB avoid moving the old bytes through the
// backend. Abort (or any failure) aborts the multipart upload: nothing is
// visible and no upload is left behind. Every multipart upload is recorded
// in the UploadJournal while open.
//
// Thread safety: one thread at a time (FileWriter's contract).

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_WRITER_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_WRITER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "s3_client.h"
#include "sftpgate/backend.h"
#include "upload_journal.h"

namespace sftpgate::s3 {

// Largest part S3 copies in one UploadPartCopy, and the smallest part
// (but the last) a multipart upload takes.
inline constexpr uint64_t kMaxCopyPart = uint64_t{5} << 30;
inline constexpr uint64_t kMinPart = uint64_t{5} << 20;
inline constexpr int kMaxParts = 10000;

class ObjectWriter final : public FileWriter {
 public:
  struct Plan {
    std::string key;            // the object to publish
    Headers metadata;           // its x-amz-meta-* values (names bare)
    std::string base_key;       // existing object kept around the writes
    uint64_t base_keep = 0;     // bytes of base_key kept (0: none)
    uint64_t first_offset = 0;  // where the first written byte goes
    bool append = false;        // chunk offsets ignored; bytes go at the end
    std::optional<uint64_t> final_size;  // zero-extend (or cut) to this
    uint64_t part_size = 8 << 20;
    // The base object is `key` itself and kept whole: a commit without
    // any write changes nothing and costs no request.
    bool unchanged_if_unwritten = false;
  };

  ObjectWriter(S3Client* client, UploadJournal* journal, Plan plan);

  // Takes `data` at `offset`, which must continue the object exactly
  // (FAILED_PRECONDITION otherwise: S3 has no random writes).
  absl::Status Write(uint64_t offset, absl::string_view data) override;
  // Appends what is left of the base object, zero-extends to final_size,
  // publishes the object and returns its size.
  absl::StatusOr<uint64_t> Commit() override;
  // Aborts the multipart upload, if any. Never fails.
  void Abort() override;

 private:
  // Adds the base object's bytes before first_offset (and zeros past its
  // end) ahead of the first write.
  absl::Status Begin();
  absl::Status AddBytes(absl::string_view data);
  absl::Status AddZeros(uint64_t count);
  // Adds bytes [from, to) of the base object.
  absl::Status AddCopy(uint64_t from, uint64_t to);
  absl::Status FlushPart();
  absl::Status EnsureUpload();
  absl::Status Finish();

  S3Client* const client_;
  UploadJournal* const journal_;
  const Plan plan_;
  bool begun_ = false;
  bool wrote_ = false;
  uint64_t assembled_ = 0;  // bytes of the new object so far
  std::string buffer_;      // the part being filled
  std::string upload_id_;   // empty until the first part goes out
  std::vector<std::string> etags_;
};

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_WRITER_H_
