#include "server/config/password_hash.h"

#include <crypt.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sftpgate::server {
namespace {

// crypt_r's work area is ~32 KiB: one per thread, allocated on first use.
struct crypt_data* ThreadCryptData() {
  thread_local std::unique_ptr<struct crypt_data> data;
  if (data == nullptr) data = std::make_unique<struct crypt_data>();
  std::memset(data.get(), 0, sizeof(struct crypt_data));
  return data.get();
}

// crypt(3) signals failure with NULL or with a string starting with '*'.
bool CryptFailed(const char* result) {
  return result == nullptr || result[0] == '*';
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

// Characters crypt(3) uses in settings and hashes of the methods we take.
bool IsHashChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '/' || c == '$' ||
         c == '=' || c == ',' || c == '-';
}

constexpr const char* kAcceptedPrefixes[] = {"$y$",  "$gy$", "$7$", "$2b$",
                                             "$2a$", "$2y$", "$6$", "$5$"};

// The docs' example ("$y$j9T$...") copied as is: a field of dots only.
// Not "..." anywhere: '.' is one of crypt's 64 characters, so by the odds
// about one real hash in 4,000 holds three in a row (a hash that `sftpgate
// hash-password` had just printed was refused as a placeholder).
bool IsPlaceholder(absl::string_view hash) {
  for (absl::string_view field : absl::StrSplit(hash, '$')) {
    if (field.size() >= 3 &&
        field.find_first_not_of('.') == absl::string_view::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  if (password.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("password contains a NUL byte");
  }
  std::string plain(password);
  for (const char* prefix : {"$y$", "$6$"}) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    // count 0 = the method's default cost; NULL rbytes = libcrypt's RNG.
    if (crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof(setting)) ==
        nullptr) {
      continue;
    }
    const char* hash = crypt_r(plain.c_str(), setting, ThreadCryptData());
    if (!CryptFailed(hash)) return std::string(hash);
  }
  return absl::InternalError(
      "libcrypt offers neither yescrypt nor SHA-512 crypt");
}

absl::Status CheckCryptHashFormat(absl::string_view hash) {
  if (IsPlaceholder(hash)) {
    return absl::InvalidArgumentError(
        "is a placeholder (\"...\"): replace it with the whole line "
        "`sftpgate hash-password` prints");
  }
  bool known_prefix = false;
  for (const char* prefix : kAcceptedPrefixes) {
    if (absl::StartsWith(hash, prefix)) known_prefix = true;
  }
  if (!known_prefix) {
    if (absl::StartsWith(hash, "$1$") || absl::StartsWith(hash, "$md5") ||
        absl::StartsWith(hash, "$sha1$") || absl::StartsWith(hash, "_") ||
        absl::StartsWith(hash, "$3$")) {
      return absl::InvalidArgumentError(
          "is an obsolete, weak crypt(3) method; make a new hash with "
          "`sftpgate hash-password`");
    }
    return absl::InvalidArgumentError(
        "does not look like a crypt(3) hash (expected \"$y$...\" or "
        "\"$6$...\", as printed by `sftpgate hash-password`); plaintext "
        "passwords are not accepted");
  }
  for (char c : hash) {
    if (!IsHashChar(c)) {
      return absl::InvalidArgumentError(
          "contains characters a crypt(3) hash never has");
    }
  }
  // A setting alone ("$6$salt") is shorter than any real hash.
  if (hash.size() < 20 || hash.back() == '$') {
    return absl::InvalidArgumentError(
        "is too short to be a crypt(3) hash (salt only?)");
  }
  return absl::OkStatus();
}

std::string CryptMethodAndCost(absl::string_view hash) {
  // bcrypt keeps salt and digest in one last field; the other methods end
  // with "$salt$digest".
  const int fields_to_drop = absl::StartsWith(hash, "$2") ? 1 : 2;
  size_t end = hash.size();
  for (int i = 0; i < fields_to_drop; ++i) {
    size_t dollar = hash.rfind('$', end == 0 ? 0 : end - 1);
    if (dollar == absl::string_view::npos || dollar == 0) return "";
    end = dollar;
  }
  return std::string(hash.substr(0, end + 1));
}

std::string DummyHashLike(const std::string& hash) {
  unsigned char random[24];
  std::string password;
  if (getentropy(random, sizeof(random)) == 0) {
    for (unsigned char c : random) password += static_cast<char>('!' + c % 90);
  } else {
    password = "sftpgate-dummy";
  }
  const char* result =
      crypt_r(password.c_str(), hash.c_str(), ThreadCryptData());
  return CryptFailed(result) ? "" : std::string(result);
}

bool VerifyPassword(absl::string_view password, const std::string& hash) {
  // A NUL would silently truncate the password for crypt(3); still hash
  // something so that the time spent does not tell.
  bool valid_input = password.find('\0') == absl::string_view::npos;
  std::string plain(valid_input ? password : absl::string_view());
  const char* result = crypt_r(plain.c_str(), hash.c_str(), ThreadCryptData());
  if (CryptFailed(result)) return false;
  return ConstantTimeEquals(result, hash) && valid_input;
}

}  // namespace sftpgate::server
