// Implementation of the structured event log (see log.h).

#include "server/common/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sftpgate::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};
std::atomic<LogLevel> g_min_level{LogLevel::kInfo};

// Serializes whole lines so that lines from different threads never mix.
absl::Mutex g_write_mu;

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

// Appends `c` as a JSON/text escape sequence when it needs one; returns
// false when the caller should append it as is. Control characters are
// always escaped so that a value can never start a new log line.
bool AppendEscaped(char c, std::string* out) {
  switch (c) {
    case '"':
      out->append("\\\"");
      return true;
    case '\\':
      out->append("\\\\");
      return true;
    case '\n':
      out->append("\\n");
      return true;
    case '\r':
      out->append("\\r");
      return true;
    case '\t':
      out->append("\\t");
      return true;
    default:
      break;
  }
  if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
    absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
    return true;
  }
  return false;
}

void AppendQuoted(absl::string_view value, std::string* out) {
  out->push_back('"');
  for (char c : value) {
    if (!AppendEscaped(c, out)) out->push_back(c);
  }
  out->push_back('"');
}

// Text values are bare when that is unambiguous, quoted otherwise.
void AppendTextValue(absl::string_view value, std::string* out) {
  bool bare = !value.empty();
  for (char c : value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' ||
        static_cast<unsigned char>(c) < 0x21 || c == 0x7f) {
      bare = false;
      break;
    }
  }
  if (bare) {
    out->append(value.data(), value.size());
  } else {
    AppendQuoted(value, out);
  }
}

std::string Timestamp() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(),
                          absl::UTCTimeZone());
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format); }
void SetLogLevel(LogLevel min_level) { g_min_level.store(min_level); }

bool LogEnabled(LogLevel level) {
  return level >= g_min_level.load(std::memory_order_relaxed);
}

void LogEvent(LogLevel level, absl::string_view event,
              absl::Span<const LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(128);
  if (g_format.load(std::memory_order_relaxed) == LogFormat::kJson) {
    line.append("{\"ts\":");
    AppendQuoted(Timestamp(), &line);
    line.append(",\"level\":");
    AppendQuoted(LevelName(level), &line);
    line.append(",\"event\":");
    AppendQuoted(event, &line);
    for (const LogField& field : fields) {
      line.push_back(',');
      AppendQuoted(field.first, &line);
      line.push_back(':');
      AppendQuoted(field.second, &line);
    }
    line.append("}\n");
  } else {
    line.append(Timestamp());
    line.push_back(' ');
    line.append(LevelName(level));
    line.push_back(' ');
    AppendTextValue(event, &line);
    for (const LogField& field : fields) {
      line.push_back(' ');
      line.append(field.first.data(), field.first.size());
      line.push_back('=');
      AppendTextValue(field.second, &line);
    }
    line.push_back('\n');
  }
  absl::MutexLock lock(&g_write_mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string LogMillis(std::chrono::nanoseconds duration) {
  return absl::StrFormat(
      "%.1f", std::chrono::duration<double, std::milli>(duration).count());
}

}  // namespace sftpgate::server
