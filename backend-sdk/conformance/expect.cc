#include "expect.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace sftpgate::conformance {
namespace {

// Marks a skip so that it cannot be confused with a backend's own status.
constexpr char kSkipPayload[] = "sftpgate.conformance/skip";
constexpr size_t kShowLimit = 64;

}  // namespace

absl::Status Fail(absl::string_view message) {
  return absl::UnknownError(message);
}

absl::Status Skip(absl::string_view reason) {
  absl::Status status = absl::CancelledError(reason);
  status.SetPayload(kSkipPayload, absl::Cord("1"));
  return status;
}

bool IsSkip(const absl::Status& outcome) {
  return outcome.GetPayload(kSkipPayload).has_value();
}

std::string DescribeStatus(const absl::Status& status) {
  if (status.ok()) return "OK";
  std::string text = absl::StatusCodeToString(status.code());
  if (!status.message().empty()) {
    absl::StrAppend(&text, " (", status.message(), ")");
  }
  return text;
}

absl::Status ExpectCodeIn(absl::string_view call, const absl::Status& actual,
                          std::initializer_list<absl::StatusCode> allowed) {
  if (std::find(allowed.begin(), allowed.end(), actual.code()) !=
      allowed.end()) {
    return absl::OkStatus();
  }
  std::string expected = absl::StrJoin(
      allowed, " or ", [](std::string* out, absl::StatusCode code) {
        out->append(absl::StatusCodeToString(code));
      });
  return Fail(absl::StrCat("expected ", expected, " from ", call, ", got ",
                           DescribeStatus(actual)));
}

std::string Show(absl::string_view s) {
  if (s.size() <= kShowLimit)
    return absl::StrCat("\"", absl::CHexEscape(s), "\"");
  return absl::StrCat("\"", absl::CHexEscape(s.substr(0, kShowLimit)),
                      "\"... (", s.size(), " bytes)");
}

std::string ShowMode(uint32_t mode) { return absl::StrFormat("0%o", mode); }

absl::Status ExpectThat(bool condition, absl::string_view what,
                        absl::string_view got) {
  if (condition) return absl::OkStatus();
  return Fail(absl::StrCat("expected ", what, ", got ", got));
}

absl::Status ExpectSameBytes(absl::string_view what, absl::string_view expected,
                             absl::string_view actual) {
  if (expected == actual) return absl::OkStatus();
  const size_t common = std::min(expected.size(), actual.size());
  const size_t first_diff =
      std::mismatch(expected.begin(), expected.begin() + common, actual.begin())
          .first -
      expected.begin();
  if (expected.size() <= kShowLimit && actual.size() <= kShowLimit) {
    return Fail(absl::StrCat("expected ", what, " = ", Show(expected), ", got ",
                             Show(actual)));
  }
  return Fail(absl::StrCat("expected ", what, " = ", expected.size(),
                           " known bytes, got ", actual.size(),
                           " bytes, first difference at offset ", first_diff));
}

std::string PatternBytes(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  // xorshift32: cheap, deterministic, and covers every byte value.
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    out[i] = static_cast<char>(x >> 24);
  }
  return out;
}

}  // namespace sftpgate::conformance
