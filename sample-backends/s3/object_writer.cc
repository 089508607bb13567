#include "object_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sftpgate::s3 {

ObjectWriter::ObjectWriter(S3Client* client, UploadJournal* journal, Plan plan)
    : client_(client), journal_(journal), plan_(std::move(plan)) {}

absl::Status ObjectWriter::Begin() {
  begun_ = true;
  buffer_.reserve(plan_.part_size);  // one allocation, never doubled
  const uint64_t start = plan_.append ? plan_.base_keep : plan_.first_offset;
  if (absl::Status status = AddCopy(0, std::min(start, plan_.base_keep));
      !status.ok()) {
    return status;
  }
  return AddZeros(start - assembled_);
}

absl::Status ObjectWriter::Write(uint64_t offset, absl::string_view data) {
  if (!begun_) {
    if (absl::Status status = Begin(); !status.ok()) return status;
  }
  wrote_ = true;
  if (!plan_.append && offset != assembled_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "write at offset ", offset, " but the object continues at ", assembled_,
        ": S3 objects are written sequentially"));
  }
  return AddBytes(data);
}

absl::Status ObjectWriter::AddBytes(absl::string_view data) {
  while (!data.empty()) {
    const size_t n =
        std::min<size_t>(data.size(), plan_.part_size - buffer_.size());
    buffer_.append(data.data(), n);
    data.remove_prefix(n);
    assembled_ += n;
    if (buffer_.size() == plan_.part_size) {
      if (absl::Status status = FlushPart(); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ObjectWriter::AddZeros(uint64_t count) {
  static const std::string kZeros(1 << 20, '\0');
  while (count > 0) {
    const uint64_t n = std::min<uint64_t>(count, kZeros.size());
    if (absl::Status status = AddBytes(absl::string_view(kZeros.data(), n));
        !status.ok()) {
      return status;
    }
    count -= n;
  }
  return absl::OkStatus();
}

absl::Status ObjectWriter::AddCopy(uint64_t from, uint64_t to) {
  while (from < to) {
    const uint64_t left = to - from;
    if (buffer_.empty() && left >= kMinPart) {
      // A whole part copied inside the store.
      if (absl::Status status = EnsureUpload(); !status.ok()) return status;
      if (etags_.size() >= kMaxParts) {
        return absl::ResourceExhaustedError("file too large: too many parts");
      }
      const uint64_t n = std::min(left, kMaxCopyPart);
      absl::StatusOr<std::string> etag = client_->UploadPartCopy(
          plan_.key, upload_id_, static_cast<int>(etags_.size() + 1),
          plan_.base_key, from, from + n - 1);
      if (!etag.ok()) return etag.status();
      etags_.push_back(*std::move(etag));
      from += n;
      assembled_ += n;
      continue;
    }
    // Too small for a part of its own: fetched into the current part.
    const uint64_t n =
        std::min<uint64_t>(left, plan_.part_size - buffer_.size());
    if (absl::Status status =
            client_->GetRange(plan_.base_key, from, from + n - 1, &buffer_);
        !status.ok()) {
      return status;
    }
    from += n;
    assembled_ += n;
    if (buffer_.size() == plan_.part_size) {
      if (absl::Status status = FlushPart(); !status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

absl::Status ObjectWriter::EnsureUpload() {
  if (!upload_id_.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> id =
      client_->CreateMultipart(plan_.key, MetadataHeaders(plan_.metadata));
  if (!id.ok()) return id.status();
  upload_id_ = *std::move(id);
  if (absl::Status status = journal_->Record(plan_.key, upload_id_);
      !status.ok()) {
    client_->AbortMultipart(plan_.key, upload_id_).IgnoreError();
    upload_id_.clear();
    return status;
  }
  return absl::OkStatus();
}

absl::Status ObjectWriter::FlushPart() {
  if (absl::Status status = EnsureUpload(); !status.ok()) return status;
  if (etags_.size() >= kMaxParts) {
    return absl::ResourceExhaustedError(
        "file too large for this part size (10000 parts)");
  }
  absl::StatusOr<std::string> etag = client_->UploadPart(
      plan_.key, upload_id_, static_cast<int>(etags_.size() + 1), buffer_);
  if (!etag.ok()) return etag.status();
  etags_.push_back(*std::move(etag));
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status ObjectWriter::Finish() {
  if (!begun_) {
    if (absl::Status status = Begin(); !status.ok()) return status;
  }
  const uint64_t keep_end = plan_.final_size.has_value()
                                ? std::min(plan_.base_keep, *plan_.final_size)
                                : plan_.base_keep;
  if (assembled_ < keep_end) {
    if (absl::Status status = AddCopy(assembled_, keep_end); !status.ok()) {
      return status;
    }
  }
  if (plan_.final_size.has_value() && assembled_ < *plan_.final_size) {
    if (absl::Status status = AddZeros(*plan_.final_size - assembled_);
        !status.ok()) {
      return status;
    }
  }
  if (upload_id_.empty()) {
    Headers headers = MetadataHeaders(plan_.metadata);
    return client_->Put(plan_.key, buffer_, headers);
  }
  if (!buffer_.empty()) {
    if (absl::Status status = FlushPart(); !status.ok()) return status;
  }
  if (absl::Status status =
          client_->CompleteMultipart(plan_.key, upload_id_, etags_);
      !status.ok()) {
    return status;
  }
  journal_->Forget(upload_id_);
  upload_id_.clear();
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> ObjectWriter::Commit() {
  if (!wrote_ && plan_.unchanged_if_unwritten) return plan_.base_keep;
  absl::Status status = Finish();
  if (!status.ok()) {
    Abort();
    return status;
  }
  return assembled_;
}

void ObjectWriter::Abort() {
  buffer_.clear();
  if (upload_id_.empty()) return;
  if (client_->AbortMultipart(plan_.key, upload_id_).ok()) {
    journal_->Forget(upload_id_);
  }  // else the journal entry stays: the next start aborts it
  upload_id_.clear();
}

}  // namespace sftpgate::s3
