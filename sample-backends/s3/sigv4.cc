#include "sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace sftpgate::s3 {
namespace {

std::string Hmac(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
       &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

// Trims and collapses runs of spaces inside a header value.
std::string CanonicalHeaderValue(absl::string_view value) {
  value = absl::StripAsciiWhitespace(value);
  std::string out;
  out.reserve(value.size());
  bool in_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string UriEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' ||
        c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(const QueryParams& params) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(params.size());
  for (const auto& [name, value] : params) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  return absl::StrJoin(encoded, "&", [](std::string* out, const auto& p) {
    absl::StrAppend(out, p.first, "=", p.second);
  });
}

std::string AuthorizationHeader(const SignatureInput& input,
                                const SigningKeyId& key) {
  std::map<std::string, std::string> headers;  // sorted by lower-case name
  for (const auto& [name, value] : input.headers) {
    headers[absl::AsciiStrToLower(name)] = CanonicalHeaderValue(value);
  }
  std::string canonical_headers;
  std::vector<absl::string_view> names;
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&canonical_headers, name, ":", value, "\n");
    names.push_back(name);
  }
  const std::string signed_headers = absl::StrJoin(names, ";");
  const std::string canonical_request =
      absl::StrCat(input.method, "\n", input.canonical_uri, "\n",
                   input.canonical_query, "\n", canonical_headers, "\n",
                   signed_headers, "\n", input.payload_sha256);
  const std::string& amz_date = headers["x-amz-date"];
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = absl::StrCat(date, "/", input.region, "/",
                                         input.service, "/aws4_request");
  const std::string string_to_sign =
      absl::StrCat("AWS4-HMAC-SHA256\n", amz_date, "\n", scope, "\n",
                   Sha256Hex(canonical_request));
  std::string signing_key =
      Hmac(absl::StrCat("AWS4", key.secret_access_key), date);
  signing_key = Hmac(signing_key, input.region);
  signing_key = Hmac(signing_key, input.service);
  signing_key = Hmac(signing_key, "aws4_request");
  const std::string signature =
      absl::BytesToHexString(Hmac(signing_key, string_to_sign));
  return absl::StrCat("AWS4-HMAC-SHA256 Credential=", key.access_key_id, "/",
                      scope, ", SignedHeaders=", signed_headers,
                      ", Signature=", signature);
}

}  // namespace sftpgate::s3
