// ObjectReader: one GET of an object from an offset, streamed. The body is
// taken from libcurl as the front end asks for it: curl's transfer is
// paused whenever `buffer_limit` bytes wait unread, so a reader never holds
// more than that (plus curl's own receive buffer) however large the file.
//
// Thread safety: one thread at a time (FileReader's contract).

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_READER_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_READER_H_

#include <curl/curl.h>

#include <cstdint>
#include <memory>
#include <string>

#include "s3_client.h"
#include "sftpgate/backend.h"

namespace sftpgate::s3 {

class ObjectReader final : public FileReader {
 public:
  // Reads `key` (of `size` bytes) from `offset` on. Nothing is requested
  // until the first Read.
  ObjectReader(S3Client* client, std::string key, uint64_t offset,
               uint64_t size, size_t buffer_limit);
  ~ObjectReader() override;

  // Returns the next bytes (at most `max_bytes`); empty at end of file.
  // UNAVAILABLE when the connection breaks (the front end resumes from
  // the next byte with a new call).
  absl::Status Read(size_t max_bytes, std::string* data) override;

 private:
  static size_t OnData(char* data, size_t size, size_t count, void* self);
  absl::Status Start();
  // Drives the transfer until bytes are buffered or it ends.
  absl::Status Fill();

  S3Client* const client_;
  const std::string key_;
  uint64_t offset_;
  const uint64_t size_;
  const size_t buffer_limit_;
  CURLM* multi_ = nullptr;
  CURL* easy_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already returned
  bool paused_ = false;
  bool finished_ = false;
  long status_ = 0;
  std::string error_body_;
};

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_OBJECT_READER_H_
