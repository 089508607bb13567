// GrpcBackendClient: BackendClient (backend_client.h) over a Backend stub
// (one per target, shared by every session: backend_channel.h builds it).
// The session and the unary deadline are stamped here, for every call.
//
// Thread safety: as BackendClient (loop thread only); the stub is shared
// and thread-safe.

#ifndef SFTPGATE_SERVER_BACKEND_GRPC_BACKEND_CLIENT_H_
#define SFTPGATE_SERVER_BACKEND_GRPC_BACKEND_CLIENT_H_

#include <memory>

#include "server/backend/backend_client.h"
#include "server/backend/backend_stub.h"

namespace sftpgate::server::backend {

// One session's client over `stub` (shared; must not be null).
std::shared_ptr<BackendClient> NewGrpcBackendClient(
    std::shared_ptr<const BackendStub> stub, BackendClientOptions options);

// A factory making NewGrpcBackendClient(stub, ...) clients.
BackendClientFactory GrpcBackendClientFactory(
    std::shared_ptr<const BackendStub> stub);

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_GRPC_BACKEND_CLIENT_H_
