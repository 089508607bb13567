// How a check reports its outcome, and the expectations checks are built
// from.
//
// A check returns an absl::Status: OK means PASS, Skip(reason) means SKIP,
// anything else means FAIL and its message says what was expected and what
// was seen ("expected NOT_FOUND from Stat(/c/x, follow), got OK"). The
// helpers below produce such messages; the CONF_* macros propagate them.
//
// All functions are pure and thread-safe.

#ifndef SFTPGATE_TESTS_CONFORMANCE_EXPECT_H_
#define SFTPGATE_TESTS_CONFORMANCE_EXPECT_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "reply.h"

namespace sftpgate::conformance {

// A failure with the given message.
absl::Status Fail(absl::string_view message);
// A skip with the given reason (e.g. "capability not claimed").
absl::Status Skip(absl::string_view reason);
bool IsSkip(const absl::Status& outcome);

// "OK", or "NOT_FOUND (message)" for an error.
std::string DescribeStatus(const absl::Status& status);

// OK when `actual` has one of `allowed`; otherwise a failure
// "expected A or B from CALL, got C (message)".
absl::Status ExpectCodeIn(absl::string_view call, const absl::Status& actual,
                          std::initializer_list<absl::StatusCode> allowed);

template <typename T>
absl::Status ExpectCode(const Reply<T>& reply, absl::StatusCode code) {
  return ExpectCodeIn(reply.call(), reply.status(), {code});
}
template <typename T>
absl::Status ExpectCodeIn(const Reply<T>& reply,
                          std::initializer_list<absl::StatusCode> allowed) {
  return ExpectCodeIn(reply.call(), reply.status(), allowed);
}
// As ExpectCode, and the error carries a message: SFTP clients show it
// (the status code alone is "Failure" for most errors).
template <typename T>
absl::Status ExpectCodeWithMessage(const Reply<T>& reply,
                                   absl::StatusCode code) {
  absl::Status outcome = ExpectCode(reply, code);
  if (outcome.ok() && reply.status().message().empty()) {
    return Fail(absl::StrCat(reply.call(), ": ", DescribeStatus(reply.status()),
                             " without a message; say why (clients show "
                             "it to the user)"));
  }
  return outcome;
}
template <typename T>
absl::Status ExpectOk(const Reply<T>& reply) {
  return ExpectCode(reply, absl::StatusCode::kOk);
}
// The value of a reply that must be OK (typically setup steps).
template <typename T>
absl::StatusOr<T> Require(const Reply<T>& reply) {
  if (!reply.ok()) return ExpectOk(reply);
  return reply.value();
}

// Formats values for "expected X, got Y" messages: numbers in decimal,
// strings quoted with escapes and shortened.
inline std::string Show(uint64_t v) { return absl::StrCat(v); }
inline std::string Show(int64_t v) { return absl::StrCat(v); }
inline std::string Show(uint32_t v) { return absl::StrCat(v); }
inline std::string Show(int v) { return absl::StrCat(v); }
inline std::string Show(bool v) { return v ? "true" : "false"; }
std::string Show(absl::string_view s);
inline std::string Show(const std::string& s) {
  return Show(absl::string_view(s));
}
inline std::string Show(const char* s) { return Show(absl::string_view(s)); }
// A mode as octal ("0100644").
std::string ShowMode(uint32_t mode);

// OK when expected == actual; otherwise "expected WHAT = X, got Y".
template <typename A, typename B>
absl::Status ExpectEq(absl::string_view what, const A& expected,
                      const B& actual) {
  if (expected == actual) return absl::OkStatus();
  return Fail(absl::StrCat("expected ", what, " = ", Show(expected), ", got ",
                           Show(actual)));
}

// OK when `condition`; otherwise a failure "expected WHAT, got GOT".
absl::Status ExpectThat(bool condition, absl::string_view what,
                        absl::string_view got);

// Compares file contents; on mismatch names the size or the first
// differing offset rather than dumping megabytes.
absl::Status ExpectSameBytes(absl::string_view what, absl::string_view expected,
                             absl::string_view actual);

// Deterministic pseudo-random bytes (all 256 values occur) for contents.
std::string PatternBytes(size_t size, uint32_t seed);

}  // namespace sftpgate::conformance

#define CONF_CONCAT_INNER_(a, b) a##b
#define CONF_CONCAT_(a, b) CONF_CONCAT_INNER_(a, b)

// Returns from the enclosing check when `expr` (an absl::Status) is not OK.
#define CONF_RETURN_IF_ERROR(expr)               \
  do {                                           \
    const ::absl::Status conf_status_ = (expr);  \
    if (!conf_status_.ok()) return conf_status_; \
  } while (0)

// `lhs = value of expr` (an absl::StatusOr), or returns its status.
#define CONF_ASSIGN_OR_RETURN(lhs, expr) \
  CONF_ASSIGN_OR_RETURN_IMPL_(CONF_CONCAT_(conf_or_, __LINE__), lhs, expr)
#define CONF_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(*tmp)

#endif  // SFTPGATE_TESTS_CONFORMANCE_EXPECT_H_
