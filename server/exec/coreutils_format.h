// The exact bytes GNU coreutils 9.1 (Debian 12) prints for md5sum and
// friends, so that tools parsing that output (rclone) cannot tell sftpgate
// from a shell account.
//
// Thread safety: pure functions.

#ifndef SFTPGATE_SERVER_EXEC_COREUTILS_FORMAT_H_
#define SFTPGATE_SERVER_EXEC_COREUTILS_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace sftpgate::server::exec {

// One output line of md5sum: "<hex>  <name>\n". A name holding a
// backslash, newline or carriage return is escaped (\\, \n, \r) and the
// line then starts with a backslash, as coreutils does.
std::string ChecksumLine(absl::string_view hex, absl::string_view name);

// `name` as coreutils quotes file names in diagnostics (gnulib quotearg,
// shell-escape style with ':' quoted, UTF-8 locale): unchanged when
// nothing in it is special to a shell; "..." when it holds a single quote
// and otherwise only plain characters; else '...' with '\'' for quotes
// and $'\n' (\a \b \t \n \v \f \r or \ooo) for control characters and
// bytes that are not UTF-8.
std::string QuoteFileName(absl::string_view name);

// A diagnostic line: "<program>: <quoted name>: <reason>\n".
std::string DiagnosticLine(absl::string_view program, absl::string_view name,
                           absl::string_view reason);

}  // namespace sftpgate::server::exec

#endif  // SFTPGATE_SERVER_EXEC_COREUTILS_FORMAT_H_
