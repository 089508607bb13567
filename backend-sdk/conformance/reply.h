// The outcome of one call to the backend, together with a readable
// description of the call ("Stat(/c/x, follow)") so that a failed
// expectation can say exactly which call misbehaved.

#ifndef SFTPGATE_TESTS_CONFORMANCE_REPLY_H_
#define SFTPGATE_TESTS_CONFORMANCE_REPLY_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sftpgate::conformance {

// The value of a call whose response carries nothing.
struct Empty {};

// Immutable after construction; safe to read from any thread.
template <typename T>
class Reply {
 public:
  Reply(std::string call, absl::StatusOr<T> result)
      : call_(std::move(call)), result_(std::move(result)) {}
  // For value-less calls: an OK status yields a default T.
  Reply(std::string call, absl::Status status)
      : call_(std::move(call)),
        result_(status.ok() ? absl::StatusOr<T>(T{})
                            : absl::StatusOr<T>(status)) {}

  // What was called, with its arguments, for messages.
  const std::string& call() const { return call_; }
  // The gRPC status the backend answered, as an absl::Status (same codes).
  absl::Status status() const { return result_.status(); }
  bool ok() const { return result_.ok(); }
  // The response; only valid when ok().
  const T& value() const { return *result_; }

 private:
  std::string call_;
  absl::StatusOr<T> result_;
};

// The same reply without its value, for code that only judges statuses.
template <typename T>
Reply<Empty> StatusOnly(const Reply<T>& reply) {
  return Reply<Empty>(reply.call(), reply.status());
}

}  // namespace sftpgate::conformance

#endif  // SFTPGATE_TESTS_CONFORMANCE_REPLY_H_
