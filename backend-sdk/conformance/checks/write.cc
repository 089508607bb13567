// write.*: uploads honour the open flags, report the committed size, and
// become visible only when committed; a cancelled upload leaves no trace.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

using absl::StatusCode;

// How long to let the backend take in chunks (and, after a cancel, the
// cancellation) before looking. Waiting longer only makes a check stricter;
// a fast backend passes either way.
constexpr absl::Duration kSettle = absl::Milliseconds(200);

// The upload succeeds and reports `committed` bytes.
absl::Status ExpectWrite(Fixture& f, const v1::WriteHeader& header,
                         const std::vector<Chunk>& chunks, uint64_t committed) {
  const Reply<uint64_t> reply = f.root().Write(header, chunks);
  CONF_ASSIGN_OR_RETURN(const uint64_t size, Require(reply));
  return ExpectEq(absl::StrCat("committed_size of ", reply.call()), committed,
                  size);
}

absl::Status CreateAndCommit(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kCreate | kTruncate),
                  {{0, "ab"}, {2, "cd"}, {4, "efg"}, {7, "hij"}}, 10));
  CONF_RETURN_IF_ERROR(f.ExpectType(f.root(), path, kTypeFile));
  return f.ExpectContent(f.root(), path, "abcdefghij");
}

absl::Status EmptyFile(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kCreate | kTruncate), {}, 0));
  CONF_RETURN_IF_ERROR(f.ExpectType(f.root(), path, kTypeFile));
  return f.ExpectContent(f.root(), path, "");
}

absl::Status CreateMode(Fixture& f) {
  CONF_RETURN_IF_ERROR(ExpectWrite(
      f, MakeHeader(f.Path("private"), kCreate | kTruncate, 0, 0600),
      {{0, "x"}}, 1));
  CONF_RETURN_IF_ERROR(f.ExpectPermissions(f.root(), f.Path("private"), 0600));
  CONF_RETURN_IF_ERROR(ExpectWrite(
      f, MakeHeader(f.Path("default"), kCreate | kTruncate), {{0, "x"}}, 1));
  return f.ExpectPermissions(f.root(), f.Path("default"), 0644);
}

absl::Status Exclusive(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(ExpectWrite(f, MakeHeader(path, kCreate | kExclusive),
                                   {{0, "first"}}, 5));
  CONF_RETURN_IF_ERROR(ExpectCode(
      f.root().Write(MakeHeader(path, kCreate | kExclusive | kTruncate),
                     {{0, "second"}}),
      StatusCode::kAlreadyExists));
  return f.ExpectContent(f.root(), path, "first");
}

absl::Status MissingWithoutCreate(Fixture& f) {
  const std::string path = f.Path("file");
  for (const uint32_t flags : {0u, kTruncate, kAppend}) {
    CONF_RETURN_IF_ERROR(
        ExpectCode(f.root().Write(MakeHeader(path, flags), {{0, "x"}}),
                   StatusCode::kNotFound));
    CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), path));
  }
  return absl::OkStatus();
}

absl::Status MissingParent(Fixture& f) {
  CONF_RETURN_IF_ERROR(ExpectCode(
      f.root().Write(MakeHeader(f.Path("missing/file"), kCreate | kTruncate),
                     {{0, "x"}}),
      StatusCode::kNotFound));
  return f.ExpectMissing(f.root(), f.Path("missing"));
}

// Without FLAG_TRUNCATE the upload starts from the existing contents.
absl::Status KeepsExistingContents(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "0123456789"));
  CONF_RETURN_IF_ERROR(ExpectWrite(f, MakeHeader(path, 0, 2), {{2, "ab"}}, 10));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), path, "01ab456789"));
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kCreate, 8), {{8, "XYZ"}}, 11));
  return f.ExpectContent(f.root(), path, "01ab4567XYZ");
}

absl::Status Truncate(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "0123456789"));
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kTruncate), {{0, "xy"}}, 2));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), path, "xy"));
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kCreate | kTruncate), {}, 0));
  return f.ExpectContent(f.root(), path, "");
}

// "every chunk is appended at the end of file", whatever its offset says.
absl::Status Append(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "hello"));
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, kAppend), {{0, " wo"}, {3, "rld"}}, 11));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), path, "hello world"));
  CONF_RETURN_IF_ERROR(ExpectWrite(
      f, MakeHeader(f.Path("new"), kCreate | kAppend), {{0, "abc"}}, 3));
  return f.ExpectContent(f.root(), f.Path("new"), "abc");
}

// Until the stream is half-closed nothing of the upload is visible.
absl::Status InvisibleUntilCommit(Fixture& f) {
  const std::string fresh = f.Path("fresh");
  const std::string existing = f.Path("existing");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), existing, "old contents"));
  std::unique_ptr<Upload> create =
      f.root().StartUpload(MakeHeader(fresh, kCreate | kTruncate));
  std::unique_ptr<Upload> replace =
      f.root().StartUpload(MakeHeader(existing, kTruncate));
  create->Send(0, "new file");
  replace->Send(0, "new contents!");
  absl::SleepFor(kSettle);
  CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), fresh));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), existing, "old contents"));
  CONF_RETURN_IF_ERROR(ExpectOk(create->Commit()));
  CONF_RETURN_IF_ERROR(ExpectOk(replace->Commit()));
  CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), fresh, "new file"));
  return f.ExpectContent(f.root(), existing, "new contents!");
}

// Sends `chunks` for `header`, lets the backend take them, then cancels.
absl::Status SendThenCancel(Fixture& f, const v1::WriteHeader& header,
                            const std::vector<Chunk>& chunks) {
  std::unique_ptr<Upload> upload = f.root().StartUpload(header);
  for (const Chunk& chunk : chunks) upload->Send(chunk.offset, chunk.data);
  absl::SleepFor(kSettle);
  const Reply<uint64_t> reply = upload->Cancel();
  // A backend that already failed the upload is fine; one that committed it
  // without a half-close is not.
  if (reply.ok()) {
    return Fail(absl::StrCat("expected CANCELLED from ", reply.call(),
                             " after TryCancel, got OK (committed)"));
  }
  absl::SleepFor(kSettle);
  return absl::OkStatus();
}

absl::Status AbortNewFile(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(
      SendThenCancel(f, MakeHeader(path, kCreate | kTruncate),
                     SplitChunks(PatternBytes(100000, 3), 0, f.chunk_size())));
  CONF_RETURN_IF_ERROR(f.ExpectMissing(f.root(), path));
  // No temporary file left behind either.
  return f.ExpectNames(f.root(), f.dir(), {}).status();
}

absl::Status AbortExistingFile(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, "original contents"));
  for (const uint32_t flags : {kTruncate, kCreate | kTruncate, 0u, kAppend}) {
    CONF_RETURN_IF_ERROR(
        SendThenCancel(f, MakeHeader(path, flags), {{0, "XXXX"}, {4, "YYYY"}}));
    CONF_RETURN_IF_ERROR(f.ExpectContent(f.root(), path, "original contents"));
  }
  return absl::OkStatus();
}

// With random_write, chunks may come in any order and holes read as zeros.
absl::Status RandomOffsets(Fixture& f) {
  const std::string path = f.Path("file");
  CONF_RETURN_IF_ERROR(ExpectWrite(f, MakeHeader(path, kCreate | kTruncate),
                                   {{10, "B"}, {0, "A"}, {5, "C"}}, 11));
  CONF_RETURN_IF_ERROR(
      f.ExpectContent(f.root(), path, std::string("A\0\0\0\0C\0\0\0\0B", 11)));
  // Into an existing file, past its end.
  CONF_RETURN_IF_ERROR(
      ExpectWrite(f, MakeHeader(path, 0, 20), {{20, "E"}, {12, "D"}}, 21));
  return f.ExpectContent(
      f.root(), path, std::string("A\0\0\0\0C\0\0\0\0B\0D\0\0\0\0\0\0\0E", 21));
}

absl::Status MultiMebibyte(Fixture& f) {
  const std::string path = f.Path("big");
  const std::string data = PatternBytes((5u << 20) + 77, 11);
  CONF_RETURN_IF_ERROR(f.WriteFile(f.root(), path, data));
  return f.ExpectContent(f.root(), path, data);
}

// The front end may send chunks of up to max_chunk_size bytes.
absl::Status MaxChunkAccepted(Fixture& f) {
  const std::string path = f.Path("file");
  const std::string data = PatternBytes(f.max_chunk_size(), 5);
  CONF_RETURN_IF_ERROR(ExpectWrite(f, MakeHeader(path, kCreate | kTruncate),
                                   {{0, data}}, data.size()));
  return f.ExpectContent(f.root(), path, data);
}

}  // namespace

void RegisterWriteChecks(Registry& registry) {
  registry.Add("write.create_and_commit", CreateAndCommit);
  registry.Add("write.empty_file", EmptyFile);
  registry.Add("write.create_mode", CreateMode);
  registry.Add("write.exclusive_on_existing", Exclusive);
  registry.Add("write.missing_without_create", MissingWithoutCreate);
  registry.Add("write.missing_parent", MissingParent);
  registry.Add("write.without_truncate_keeps_contents", KeepsExistingContents);
  registry.Add("write.truncate", Truncate);
  registry.Add("write.append", Append);
  registry.Add("write.invisible_until_commit", InvisibleUntilCommit);
  registry.Add("write.abort_new_file", AbortNewFile);
  registry.Add("write.abort_existing_file", AbortExistingFile);
  registry.Add("write.random_offsets",
               {Claims(&v1::DescribeResponse::random_write, "random_write")},
               RandomOffsets);
  registry.Add("write.multi_mebibyte", MultiMebibyte);
  registry.Add("write.max_chunk_size_accepted", MaxChunkAccepted);
}

}  // namespace sftpgate::conformance
