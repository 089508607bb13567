#include "sftpgate/grpc_tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sftpgate {
namespace {

struct Pem {
  std::string cert, key, ca;
};

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view setting,
                                    absl::string_view expected) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(setting, ": cannot read \"", path, "\""));
  }
  std::stringstream text;
  text << in.rdbuf();
  std::string pem = text.str();
  if (!absl::StrContains(pem, "-----BEGIN ") ||
      !absl::StrContains(pem, expected)) {
    return absl::InvalidArgumentError(absl::StrCat(
        setting, ": \"", path, "\" holds no PEM ", expected, " block"));
  }
  return pem;
}

absl::StatusOr<Pem> ReadAll(const TlsFiles& files,
                            absl::string_view flag_prefix) {
  if (files.cert_file.empty() || files.key_file.empty() ||
      files.ca_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mutual TLS needs all of ", flag_prefix, "cert, ", flag_prefix,
        "key and ", flag_prefix, "ca (some are missing)"));
  }
  Pem pem;
  absl::StatusOr<std::string> text = ReadPem(
      files.cert_file, absl::StrCat(flag_prefix, "cert"), "CERTIFICATE");
  if (!text.ok()) return text.status();
  pem.cert = *std::move(text);
  text =
      ReadPem(files.key_file, absl::StrCat(flag_prefix, "key"), "PRIVATE KEY");
  if (!text.ok()) return text.status();
  pem.key = *std::move(text);
  text = ReadPem(files.ca_file, absl::StrCat(flag_prefix, "ca"), "CERTIFICATE");
  if (!text.ok()) return text.status();
  pem.ca = *std::move(text);
  return pem;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
MutualTlsServerCredentials(const TlsFiles& files,
                           absl::string_view flag_prefix) {
  absl::StatusOr<Pem> pem = ReadAll(files, flag_prefix);
  if (!pem.ok()) return pem.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = pem->ca;
  options.pem_key_cert_pairs.push_back({pem->key, pem->cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MutualTlsChannelCredentials(const TlsFiles& files,
                            absl::string_view flag_prefix) {
  absl::StatusOr<Pem> pem = ReadAll(files, flag_prefix);
  if (!pem.ok()) return pem.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = pem->ca;
  options.pem_private_key = pem->key;
  options.pem_cert_chain = pem->cert;
  return grpc::SslCredentials(options);
}

}  // namespace sftpgate
