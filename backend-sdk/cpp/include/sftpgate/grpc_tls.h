// Mutual TLS for sftpgate's gRPC channels (front end -> backends, front
// end -> authenticator): both sides present a certificate and each checks
// the other's against a CA it was given. Used by the SDK hosts and by the
// front end, so the two agree on what the files are.
//
// Thread-safe: plain functions.

#ifndef SFTPGATE_GRPC_TLS_H_
#define SFTPGATE_GRPC_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace sftpgate {

// PEM files of one side of a mutually authenticated channel.
struct TlsFiles {
  std::string cert_file;  // this side's certificate chain
  std::string key_file;   // its private key
  std::string ca_file;    // CA(s) the peer's certificate must chain to

  bool empty() const {
    return cert_file.empty() && key_file.empty() && ca_file.empty();
  }
};

// Server credentials that require and verify a client certificate signed
// by `files.ca_file`: a client without one gets no call through. Errors
// name the setting (`flag_prefix` + "cert", "key", "ca") of a missing,
// unreadable or non-PEM file, or say that only some of the three are set.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
MutualTlsServerCredentials(const TlsFiles& files,
                           absl::string_view flag_prefix);

// Channel credentials presenting `files.cert_file` and verifying the
// server's certificate against `files.ca_file`. Errors as above.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>>
MutualTlsChannelCredentials(const TlsFiles& files,
                            absl::string_view flag_prefix);

}  // namespace sftpgate

#endif  // SFTPGATE_GRPC_TLS_H_
