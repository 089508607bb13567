#include "object_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sftpgate::s3 {

ObjectReader::ObjectReader(S3Client* client, std::string key, uint64_t offset,
                           uint64_t size, size_t buffer_limit)
    : client_(client),
      key_(std::move(key)),
      offset_(offset),
      size_(size),
      buffer_limit_(buffer_limit) {}

ObjectReader::~ObjectReader() {
  if (easy_ != nullptr) {
    curl_multi_remove_handle(multi_, easy_);
    curl_easy_cleanup(easy_);  // a half-read connection is not reused
  }
  if (multi_ != nullptr) curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

size_t ObjectReader::OnData(char* data, size_t size, size_t count,
                            void* self_ptr) {
  auto* self = static_cast<ObjectReader*>(self_ptr);
  const size_t n = size * count;
  if (self->status_ == 0) {
    curl_easy_getinfo(self->easy_, CURLINFO_RESPONSE_CODE, &self->status_);
  }
  if (self->status_ / 100 != 2) {
    if (self->error_body_.size() < 64 * 1024) self->error_body_.append(data, n);
    return n;
  }
  if (self->buffer_.size() - self->consumed_ >= self->buffer_limit_) {
    self->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;  // curl hands the same bytes again later
  }
  if (self->consumed_ > 0 && self->consumed_ == self->buffer_.size()) {
    self->buffer_.clear();
    self->consumed_ = 0;
  }
  self->buffer_.append(data, n);
  return n;
}

absl::Status ObjectReader::Start() {
  S3Client::Request request;
  request.key = key_;
  request.headers["range"] = absl::StrCat("bytes=", offset_, "-");
  easy_ = client_->PrepareHandle(request, &headers_);
  curl_easy_setopt(easy_, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(easy_, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(easy_, CURLOPT_BUFFERSIZE, 256L * 1024);
  multi_ = curl_multi_init();
  if (multi_ == nullptr || curl_multi_add_handle(multi_, easy_) != CURLM_OK) {
    return absl::InternalError("curl_multi setup failed");
  }
  return absl::OkStatus();
}

absl::Status ObjectReader::Fill() {
  while (buffer_.size() == consumed_ && !finished_) {
    if (paused_) {
      paused_ = false;
      curl_easy_pause(easy_, CURLPAUSE_CONT);  // may deliver data right away
      if (buffer_.size() > consumed_) break;
    }
    int running = 0;
    if (curl_multi_perform(multi_, &running) != CURLM_OK) {
      return absl::UnavailableError("S3 GET " + key_ + ": curl failure");
    }
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      finished_ = true;
      if (message->data.result != CURLE_OK) {
        return absl::UnavailableError(absl::StrCat(
            "S3 GET ", key_, ": ", curl_easy_strerror(message->data.result)));
      }
    }
    if (buffer_.size() == consumed_ && !finished_ && !paused_) {
      curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
  }
  if (finished_ && buffer_.size() == consumed_) {
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &status_);
    if (status_ == 416) return absl::OkStatus();  // at or past the end
    if (status_ / 100 != 2) {
      return S3Client::ErrorStatus({status_, {}, error_body_}, "GET " + key_);
    }
  }
  return absl::OkStatus();
}

absl::Status ObjectReader::Read(size_t max_bytes, std::string* data) {
  data->clear();
  if (offset_ >= size_) return absl::OkStatus();
  if (easy_ == nullptr) {
    if (absl::Status status = Start(); !status.ok()) return status;
  }
  if (absl::Status status = Fill(); !status.ok()) return status;
  const size_t n = std::min(max_bytes, buffer_.size() - consumed_);
  if (n == 0 && offset_ < size_) {
    return absl::UnavailableError(
        absl::StrCat("S3 GET ", key_, ": the object ended early"));
  }
  data->assign(buffer_, consumed_, n);
  consumed_ += n;
  offset_ += n;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ >= buffer_limit_) {
    buffer_.erase(0, consumed_);  // keep the buffer within its bound
    consumed_ = 0;
  }
  return absl::OkStatus();
}

}  // namespace sftpgate::s3
