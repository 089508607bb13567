// S3 credentials, found the way AWS tools find them: the environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN),
// else a shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
// ~/.aws/credentials) and profile (the given one, else AWS_PROFILE, else
// "default"). Never from the command line, so that secrets stay out of
// `ps` and shell history; never logged (Describe() names only the source).
//
// Thread safety: the functions are safe to call concurrently; they read
// the environment and files.

#ifndef SFTPGATE_SAMPLE_BACKENDS_S3_CREDENTIALS_H_
#define SFTPGATE_SAMPLE_BACKENDS_S3_CREDENTIALS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sftpgate::s3 {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
  // Where they came from, for messages: "environment" or
  // "<file> [profile]". Holds no secret.
  std::string source;
};

// Parses the INI text of a shared credentials file and returns the
// profile's keys. NOT_FOUND if the profile is absent;
// INVALID_ARGUMENT if it lacks either key. `source_name` names the file
// in messages.
absl::StatusOr<Credentials> ParseSharedCredentials(
    absl::string_view text, absl::string_view profile,
    absl::string_view source_name);

// Loads credentials as described above. `profile` empty means AWS_PROFILE
// or "default". An explicit `profile` skips the environment keys (as the
// AWS CLI's --profile does). Errors say what was looked for, never a
// secret.
absl::StatusOr<Credentials> LoadCredentials(absl::string_view profile);

}  // namespace sftpgate::s3

#endif  // SFTPGATE_SAMPLE_BACKENDS_S3_CREDENTIALS_H_
