// read.*: Read streams a file's bytes from an offset, for a length, in
// contiguous chunks no larger than max_chunk_size; at or past EOF it sends
// no chunks and ends OK.

#include <string>

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

// A file spanning a few chunks plus a ragged end.
absl::StatusOr<std::string> MakeFile(Fixture& f, const std::string& path) {
  std::string data = PatternBytes(2 * size_t{f.chunk_size()} + 12345, 7);
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, data));
  return data;
}

// The stream for `options` is well formed and carries exactly `expected`.
absl::Status ExpectRead(Fixture& f, const std::string& path,
                        const ReadOptions& options,
                        absl::string_view expected) {
  const Reply<ReadResult> reply = f.root().Read(path, options);
  CONF_ASSIGN_OR_RETURN(const ReadResult result, Require(reply));
  CONF_RETURN_IF_ERROR(f.ValidateChunks(reply.call(), result, options.offset));
  if (expected.empty()) {
    CONF_RETURN_IF_ERROR(ExpectEq(absl::StrCat("chunks from ", reply.call()),
                                  size_t{0}, result.chunks.size()));
  }
  return ExpectSameBytes(absl::StrCat("data from ", reply.call()), expected,
                         result.data);
}

ReadOptions At(uint64_t offset, uint64_t length = 0) {
  ReadOptions options;
  options.offset = offset;
  options.length = length;
  return options;
}

absl::Status WholeFile(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_ASSIGN_OR_RETURN(const std::string data, MakeFile(f, path));
  return ExpectRead(f, path, At(0), data);
}

absl::Status FromOffset(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_ASSIGN_OR_RETURN(const std::string data, MakeFile(f, path));
  for (const uint64_t offset :
       {uint64_t{1}, uint64_t{1000}, uint64_t{f.chunk_size()} + 7,
        uint64_t{data.size()} - 1}) {
    CONF_RETURN_IF_ERROR(ExpectRead(f, path, At(offset), data.substr(offset)));
  }
  return absl::OkStatus();
}

absl::Status OffsetAndLength(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_ASSIGN_OR_RETURN(const std::string data, MakeFile(f, path));
  const uint64_t spanning = uint64_t{f.chunk_size()} + 10;
  CONF_RETURN_IF_ERROR(
      ExpectRead(f, path, At(1000, 5000), data.substr(1000, 5000)));
  CONF_RETURN_IF_ERROR(ExpectRead(f, path, At(0, 1), data.substr(0, 1)));
  CONF_RETURN_IF_ERROR(
      ExpectRead(f, path, At(100, spanning), data.substr(100, spanning)));
  // A length beyond the end stops at the end.
  const uint64_t near_end = data.size() - 10;
  return ExpectRead(f, path, At(near_end, 1000), data.substr(near_end));
}

absl::Status AtAndPastEof(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "0123456789"));
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), f.Path("empty"), ""));
  CONF_RETURN_IF_ERROR(ExpectRead(f, path, At(10), ""));
  CONF_RETURN_IF_ERROR(ExpectRead(f, path, At(11), ""));
  CONF_RETURN_IF_ERROR(ExpectRead(f, path, At(1u << 30, 10), ""));
  return ExpectRead(f, f.Path("empty"), At(0), "");
}

// chunk_size is a preference; whatever the backend sends must still be a
// well-formed stream.
absl::Status RequestedChunkSize(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_ASSIGN_OR_RETURN(const std::string data, MakeFile(f, path));
  ReadOptions options = At(3);
  options.chunk_size = 4096;
  return ExpectRead(f, path, options, data.substr(3));
}

// The front end cancels reads whenever a client seeks; the backend must
// take that in its stride.
absl::Status CancelMidway(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_ASSIGN_OR_RETURN(const std::string data, MakeFile(f, path));
  ReadOptions options;
  options.cancel_after_chunks = 1;
  const Reply<ReadResult> cancelled = f.root().Read(path, options);
  CONF_RETURN_IF_ERROR(ExpectCodeIn(
      cancelled, {absl::StatusCode::kCancelled, absl::StatusCode::kOk}));
  return ExpectRead(f, path, At(0), data);
}

}  // namespace

void RegisterReadChecks(Registry& registry) {
  registry.Add("read.whole_file", WholeFile);
  registry.Add("read.from_offset", FromOffset);
  registry.Add("read.offset_and_length", OffsetAndLength);
  registry.Add("read.at_and_past_eof", AtAndPastEof);
  registry.Add("read.requested_chunk_size", RequestedChunkSize);
  registry.Add("read.cancel_midway", CancelMidway);
}

}  // namespace sftpgate::conformance
