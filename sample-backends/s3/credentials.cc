#include "credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sftpgate::s3 {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

absl::StatusOr<Credentials> ParseSharedCredentials(
    absl::string_view text, absl::string_view profile,
    absl::string_view source_name) {
  Credentials found;
  bool in_profile = false;
  bool seen_profile = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      absl::string_view name =
          absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      // ~/.aws/config spells it "[profile NAME]"; accept both.
      absl::ConsumePrefix(&name, "profile ");
      in_profile = absl::StripAsciiWhitespace(name) == profile;
      seen_profile |= in_profile;
      continue;
    }
    if (!in_profile) continue;
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    const std::string key =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "aws_access_key_id") found.access_key_id = value;
    if (key == "aws_secret_access_key") found.secret_access_key = value;
    if (key == "aws_session_token") found.session_token = value;
  }
  found.source = absl::StrCat(source_name, " [", profile, "]");
  if (!seen_profile) {
    return absl::NotFoundError(
        absl::StrCat("no profile [", profile, "] in ", source_name));
  }
  if (found.access_key_id.empty() || found.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("profile [", profile, "] in ", source_name,
                     " lacks aws_access_key_id or aws_secret_access_key"));
  }
  return found;
}

absl::StatusOr<Credentials> LoadCredentials(absl::string_view profile) {
  if (profile.empty()) {
    const std::string id = Env("AWS_ACCESS_KEY_ID");
    const std::string secret = Env("AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
      if (id.empty() || secret.empty()) {
        return absl::InvalidArgumentError(
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set "
            "together");
      }
      return Credentials{id, secret, Env("AWS_SESSION_TOKEN"), "environment"};
    }
  }
  std::string chosen(profile);
  if (chosen.empty()) chosen = Env("AWS_PROFILE");
  if (chosen.empty()) chosen = "default";
  std::string path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty()) {
    const std::string home = Env("HOME");
    if (home.empty()) {
      return absl::NotFoundError(
          "no credentials: AWS_ACCESS_KEY_ID is unset and HOME is unset");
    }
    path = absl::StrCat(home, "/.aws/credentials");
  }
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("no credentials: AWS_ACCESS_KEY_ID is unset and ", path,
                     " cannot be read"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return ParseSharedCredentials(text.str(), chosen, path);
}

}  // namespace sftpgate::s3
