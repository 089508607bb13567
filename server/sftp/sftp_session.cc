// SftpSession::Create: the factory the SSH layer calls.

#include "server/sftp/sftp_session.h"

#include <memory>

#include "server/sftp/session_impl.h"

namespace sftpgate::server {

std::shared_ptr<SftpSession> SftpSession::Create(SftpSessionOptions options) {
  auto session = std::make_shared<sftp::SessionImpl>(std::move(options));
  session->Start();
  return session;
}

}  // namespace sftpgate::server
