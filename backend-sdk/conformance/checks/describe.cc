// describe.*: Describe answers, for any valid session, with sane limits.

#include "absl/strings/str_cat.h"
#include "checks/checks.h"
#include "expect.h"

namespace sftpgate::conformance {
namespace {

// Chunk sizes outside this range cannot be what a backend means: below it
// every transfer is thousands of messages, above it gRPC's message limits
// and memory per stream become the problem.
constexpr uint32_t kMinSaneChunk = 1024;
constexpr uint32_t kMaxSaneChunk = 64u << 20;

absl::Status Succeeds(Fixture& f) { return ExpectOk(f.root().Describe()); }

absl::Status ChunkSizesSane(Fixture& f) {
  CONF_ASSIGN_OR_RETURN(const v1::DescribeResponse d,
                        Require(f.root().Describe()));
  for (const auto& [field, value] :
       {std::pair<const char*, uint32_t>{"preferred_chunk_size",
                                         d.preferred_chunk_size()},
        {"max_chunk_size", d.max_chunk_size()}}) {
    if (value == 0) continue;  // the contract's default
    CONF_RETURN_IF_ERROR(
        ExpectThat(value >= kMinSaneChunk && value <= kMaxSaneChunk,
                   absl::StrCat(field, " 0 or in [", kMinSaneChunk, ", ",
                                kMaxSaneChunk, "]"),
                   absl::StrCat(value)));
  }
  if (d.preferred_chunk_size() != 0 && d.max_chunk_size() != 0) {
    CONF_RETURN_IF_ERROR(ExpectThat(
        d.preferred_chunk_size() <= d.max_chunk_size(),
        "preferred_chunk_size <= max_chunk_size",
        absl::StrCat(d.preferred_chunk_size(), " > ", d.max_chunk_size())));
  }
  return absl::OkStatus();
}

// "Must not fail for a valid session": any root, read-only or not.
absl::Status OtherSessions(Fixture& f) {
  CONF_RETURN_IF_ERROR(f.MakeDir(f.root(), f.Path("u1")));
  CONF_RETURN_IF_ERROR(ExpectOk(f.SessionAt(f.Path("u1")).Describe()));
  return ExpectOk(f.SessionAt(f.Path("u1"), /*read_only=*/true).Describe());
}

}  // namespace

void RegisterDescribeChecks(Registry& registry) {
  registry.Add("describe.succeeds", Succeeds);
  registry.Add("describe.chunk_sizes_sane", ChunkSizesSane);
  registry.Add("describe.succeeds_for_other_sessions", OtherSessions);
}

}  // namespace sftpgate::conformance
