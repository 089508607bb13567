#include "server/exec/command_line.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sftpgate::server::exec {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Characters that mean something to a shell when unquoted anywhere in a
// word (globs and braces included: we never expand them).
bool IsOperator(char c) {
  switch (c) {
    case ';':
    case '&':
    case '|':
    case '<':
    case '>':
    case '(':
    case ')':
    case '`':
    case '*':
    case '?':
    case '[':
    case ']':
    case '{':
    case '}':
    case '\n':
    case '\r':
      return true;
    default:
      return false;
  }
}

absl::Status Unsupported(absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported shell syntax: ", what));
}

class Splitter {
 public:
  explicit Splitter(absl::string_view line) : line_(line) {}

  absl::StatusOr<CommandLine> Run() {
    while (true) {
      while (pos_ < line_.size() && IsBlank(line_[pos_])) ++pos_;
      if (pos_ >= line_.size()) break;
      absl::Status s = Word();
      if (!s.ok()) return s;
    }
    return std::move(result_);
  }

 private:
  absl::Status Word() {
    std::string word;
    const size_t start = pos_;
    while (pos_ < line_.size() && !IsBlank(line_[pos_])) {
      const char c = line_[pos_];
      if (c == '\'') {
        const size_t close = line_.find('\'', pos_ + 1);
        if (close == absl::string_view::npos) return Unsupported("open '");
        absl::StrAppend(&word, line_.substr(pos_ + 1, close - pos_ - 1));
        pos_ = close + 1;
      } else if (c == '"') {
        absl::Status s = DoubleQuoted(&word);
        if (!s.ok()) return s;
      } else if (c == '\\') {
        if (pos_ + 1 >= line_.size()) return Unsupported("trailing \\");
        if (line_[pos_ + 1] == '\n') return Unsupported("line continuation");
        word.push_back(line_[pos_ + 1]);
        pos_ += 2;
      } else if (c == '$') {
        absl::Status s = Variable();
        if (!s.ok()) return s;
      } else if ((c == '~' || c == '#') && pos_ == start) {
        return Unsupported(std::string(1, c));
      } else if (IsOperator(c)) {
        return Unsupported(c == '\n' ? "newline" : std::string(1, c));
      } else {
        word.push_back(c);
        ++pos_;
      }
    }
    result_.words.push_back(std::move(word));
    return absl::OkStatus();
  }

  absl::Status DoubleQuoted(std::string* word) {
    ++pos_;  // opening "
    while (pos_ < line_.size()) {
      const char c = line_[pos_];
      if (c == '"') {
        ++pos_;
        return absl::OkStatus();
      }
      if (c == '\\' && pos_ + 1 < line_.size()) {
        const char next = line_[pos_ + 1];
        if (next == '$' || next == '`' || next == '"' || next == '\\') {
          word->push_back(next);
          pos_ += 2;
          continue;
        }
        if (next == '\n') return Unsupported("line continuation");
        word->push_back(c);  // a backslash before anything else is kept
        ++pos_;
        continue;
      }
      if (c == '$') {
        absl::Status s = Variable();
        if (!s.ok()) return s;
        continue;
      }
      if (c == '`') return Unsupported("`");
      word->push_back(c);
      ++pos_;
    }
    return Unsupported("open \"");
  }

  // $NAME or ${NAME}: expands to nothing. Anything else after $ is an
  // expansion we do not do.
  absl::Status Variable() {
    size_t p = pos_ + 1;
    const bool braced = p < line_.size() && line_[p] == '{';
    if (braced) ++p;
    if (p >= line_.size() || !IsNameStart(line_[p])) return Unsupported("$");
    while (p < line_.size() && IsNameChar(line_[p])) ++p;
    if (braced) {
      if (p >= line_.size() || line_[p] != '}') return Unsupported("${");
      ++p;
    }
    pos_ = p;
    result_.expanded_variables = true;
    return absl::OkStatus();
  }

  absl::string_view line_;
  size_t pos_ = 0;
  CommandLine result_;
};

}  // namespace

absl::StatusOr<CommandLine> SplitCommandLine(absl::string_view line) {
  if (line.size() > kMaxCommandLine) {
    return absl::InvalidArgumentError("command line too long");
  }
  if (line.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("NUL in command line");
  }
  return Splitter(line).Run();
}

}  // namespace sftpgate::server::exec
