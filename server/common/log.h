// Structured event log of the front end: one line per event on stderr,
// as `key=value` text or as one JSON object per line (--log-format json).
//
// Never pass passwords, keys or file contents as fields: the log is meant to
// be shipped and kept.
//
// Thread-safe: lines from different threads never interleave.

#ifndef SFTPGATE_SERVER_COMMON_LOG_H_
#define SFTPGATE_SERVER_COMMON_LOG_H_

#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace sftpgate::server {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

// Global settings; call once at startup before other threads log.
void SetLogFormat(LogFormat format);
void SetLogLevel(LogLevel min_level);

// One field of an event: a name and its value already formatted.
using LogField = std::pair<absl::string_view, std::string>;

// Writes one event line: time, level, `event` and the fields in order, e.g.
//   2026-11-21T09:40:00.123Z info op session=3 user=alice op=OPEN
//   path=/a status=ok ms=0.4
void LogEvent(LogLevel level, absl::string_view event,
              absl::Span<const LogField> fields);
inline void LogEvent(LogLevel level, absl::string_view event,
                     std::initializer_list<LogField> fields) {
  LogEvent(level, event, absl::Span<const LogField>(fields));
}

// Whether an event at `level` would be written: callers on hot paths
// check it before formatting fields nobody will read.
bool LogEnabled(LogLevel level);

// A duration as an `ms` field: milliseconds with one decimal ("12.3").
std::string LogMillis(std::chrono::nanoseconds duration);

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_COMMON_LOG_H_
