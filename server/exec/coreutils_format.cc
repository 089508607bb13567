#include "server/exec/coreutils_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace sftpgate::server::exec {
namespace {

// Length of the valid, printable UTF-8 sequence starting at s[i] (0 when
// s[i] starts none: it is then shown as an octal escape).
size_t PrintableUtf8Length(absl::string_view s, size_t i) {
  const unsigned char c = s[i];
  size_t n;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char cc = s[i + k];
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  // Overlong forms, surrogates, beyond Unicode, and the C1 controls (not
  // printable) are escaped byte by byte.
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f)) {
    return 0;
  }
  return n;
}

// Needs a shell quote wherever it appears.
bool IsShellSpecial(char c) {
  switch (c) {
    case ' ':
    case '!':
    case '"':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case ':':
    case ';':
    case '<':
    case '=':
    case '>':
    case '?':
    case '[':
    case '\\':
    case '^':
    case '`':
    case '|':
      return true;
    default:
      return false;
  }
}

// Characters that read the same inside "..." as in '...' (gnulib's
// c_and_shell_quote_compat): a name with a single quote and only these
// is shown in double quotes.
bool IsDoubleQuoteSafe(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  switch (c) {
    case ' ':
    case '%':
    case '\'':
    case '+':
    case ',':
    case '-':
    case '.':
    case '/':
    case ':':
    case '@':
    case ']':
    case '_':
      return true;
    case '#':
    case '~':
      return first;
    default:
      return false;
  }
}

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7f; }

void AppendEscape(unsigned char c, std::string* out) {
  switch (c) {
    case '\a':
      out->append("\\a");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\v':
      out->append("\\v");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\r':
      out->append("\\r");
      return;
    default:
      absl::StrAppendFormat(out, "\\%03o", c);
  }
}

}  // namespace

std::string ChecksumLine(absl::string_view hex, absl::string_view name) {
  std::string escaped;
  bool needs_escape = false;
  for (char c : name) {
    if (c == '\\') {
      escaped.append("\\\\");
      needs_escape = true;
    } else if (c == '\n') {
      escaped.append("\\n");
      needs_escape = true;
    } else if (c == '\r') {
      escaped.append("\\r");
      needs_escape = true;
    } else {
      escaped.push_back(c);
    }
  }
  return absl::StrCat(needs_escape ? "\\" : "", hex, "  ", escaped, "\n");
}

std::string QuoteFileName(absl::string_view name) {
  if (name.empty()) return "''";
  bool needs_quotes = false;
  bool has_single_quote = false;
  bool double_quote_safe = true;
  for (size_t i = 0; i < name.size();) {
    const unsigned char c = name[i];
    if (c >= 0x80) {
      const size_t n = PrintableUtf8Length(name, i);
      if (n == 0) {
        needs_quotes = true;
        double_quote_safe = false;
        ++i;
      } else {
        i += n;
      }
      continue;
    }
    if (IsControl(c) || IsShellSpecial(c) ||
        (i == 0 && (c == '#' || c == '~'))) {
      needs_quotes = true;
    }
    if (c == '\'') has_single_quote = true;
    if (!IsDoubleQuoteSafe(c, i == 0)) double_quote_safe = false;
    ++i;
  }
  if (!needs_quotes) return std::string(name);
  if (has_single_quote && double_quote_safe) {
    return absl::StrCat("\"", name, "\"");
  }
  std::string out = "'";
  bool in_dollar = false;  // inside a $'...' run of escapes
  for (size_t i = 0; i < name.size();) {
    const unsigned char c = name[i];
    size_t n = 1;
    bool escape = IsControl(c);
    if (c >= 0x80) {
      n = PrintableUtf8Length(name, i);
      escape = n == 0;
      if (n == 0) n = 1;
    }
    if (escape) {
      if (!in_dollar) out.append("'$'");
      in_dollar = true;
      AppendEscape(c, &out);
    } else {
      if (in_dollar) out.append("''");
      in_dollar = false;
      if (c == '\'') {
        out.append("'\\''");
      } else {
        absl::StrAppend(&out, name.substr(i, n));
      }
    }
    i += n;
  }
  out.push_back('\'');
  return out;
}

std::string DiagnosticLine(absl::string_view program, absl::string_view name,
                           absl::string_view reason) {
  return absl::StrCat(program, ": ", QuoteFileName(name), ": ", reason, "\n");
}

}  // namespace sftpgate::server::exec
