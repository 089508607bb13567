#include "file_data.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace sftpgate::memory {
namespace {

size_t BlocksFor(uint64_t size) {
  return static_cast<size_t>((size + FileData::kBlockSize - 1) /
                             FileData::kBlockSize);
}

}  // namespace

void FileData::Read(uint64_t offset, size_t max_bytes, std::string* out) const {
  if (offset >= size_) {
    out->clear();
    return;
  }
  const size_t n =
      static_cast<size_t>(std::min<uint64_t>(max_bytes, size_ - offset));
  out->assign(n, '\0');
  size_t done = 0;
  while (done < n) {
    const uint64_t at = offset + done;
    const size_t index = static_cast<size_t>(at / kBlockSize);
    const size_t in_block = static_cast<size_t>(at % kBlockSize);
    const size_t span = std::min(n - done, kBlockSize - in_block);
    const std::string* block = blocks_[index].get();
    if (block != nullptr && in_block < block->size()) {
      const size_t stored = std::min(span, block->size() - in_block);
      std::memcpy(out->data() + done, block->data() + in_block, stored);
    }
    done += span;
  }
}

FileDataBuilder::FileDataBuilder(const FileData& base)
    : data_(base), owned_(base.blocks_.size(), false) {}

std::string& FileDataBuilder::OwnBlock(size_t index) {
  std::shared_ptr<std::string>& block = data_.blocks_[index];
  if (!owned_[index]) {
    block = block ? std::make_shared<std::string>(*block)
                  : std::make_shared<std::string>();
    owned_[index] = true;
  }
  return *block;
}

void FileDataBuilder::Write(uint64_t offset, absl::string_view bytes) {
  const uint64_t end = offset + bytes.size();
  if (end > data_.size_) Resize(end);
  size_t done = 0;
  while (done < bytes.size()) {
    const uint64_t at = offset + done;
    const size_t index = static_cast<size_t>(at / FileData::kBlockSize);
    const size_t in_block = static_cast<size_t>(at % FileData::kBlockSize);
    const size_t span =
        std::min(bytes.size() - done, FileData::kBlockSize - in_block);
    std::string& block = OwnBlock(index);
    if (block.size() < in_block + span) block.resize(in_block + span, '\0');
    std::memcpy(block.data() + in_block, bytes.data() + done, span);
    done += span;
  }
}

void FileDataBuilder::Resize(uint64_t size) {
  if (size < data_.size_) {
    // Cut the last kept block so that a later extension reads zeros, not
    // the old bytes.
    const size_t in_block = static_cast<size_t>(size % FileData::kBlockSize);
    const size_t last = static_cast<size_t>(size / FileData::kBlockSize);
    if (in_block != 0 && data_.blocks_[last] &&
        data_.blocks_[last]->size() > in_block) {
      OwnBlock(last).resize(in_block);
    }
  }
  data_.size_ = size;
  data_.blocks_.resize(BlocksFor(size));
  owned_.resize(BlocksFor(size), false);
}

std::shared_ptr<const FileData> FileDataBuilder::Build() {
  auto built = std::make_shared<const FileData>(std::move(data_));
  data_ = FileData();
  owned_.clear();
  return built;
}

}  // namespace sftpgate::memory
