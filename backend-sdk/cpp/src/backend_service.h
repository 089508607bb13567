// BackendService: the sftpgate.v1.Backend gRPC service (sync API) on top
// of a sftpgate::Backend. Internal to the SDK; users call StartBackendServer
// or ServeBackend (server.h).
//
// Every request is checked before the backend sees it: the session must be
// present (its root normalized; an empty root is read as "/") and every
// path normalized, else INVALID_ARGUMENT. Backends may rely on that but are
// still told to confine paths themselves (defence in depth).
//
// Thread safety: gRPC calls the handlers concurrently from its worker
// threads; the service keeps no mutable state of its own.

#ifndef SFTPGATE_SDK_SRC_BACKEND_SERVICE_H_
#define SFTPGATE_SDK_SRC_BACKEND_SERVICE_H_

#include "sftpgate/backend.h"
#include "sftpgate/server.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate {

class BackendService final : public v1::Backend::Service {
 public:
  // `backend` is not owned and must outlive the service. `options` gives
  // the chunk and batch sizes; `capabilities` is what Describe reports.
  BackendService(Backend* backend, const Capabilities& capabilities,
                 const ServeOptions& options);

  grpc::Status Describe(grpc::ServerContext* context,
                        const v1::DescribeRequest* request,
                        v1::DescribeResponse* response) override;
  grpc::Status Stat(grpc::ServerContext* context,
                    const v1::StatRequest* request,
                    v1::StatResponse* response) override;
  grpc::Status MakeDir(grpc::ServerContext* context,
                       const v1::MakeDirRequest* request,
                       v1::MakeDirResponse* response) override;
  grpc::Status RemoveDir(grpc::ServerContext* context,
                         const v1::RemoveDirRequest* request,
                         v1::RemoveDirResponse* response) override;
  grpc::Status Remove(grpc::ServerContext* context,
                      const v1::RemoveRequest* request,
                      v1::RemoveResponse* response) override;
  grpc::Status Rename(grpc::ServerContext* context,
                      const v1::RenameRequest* request,
                      v1::RenameResponse* response) override;
  grpc::Status SetStat(grpc::ServerContext* context,
                       const v1::SetStatRequest* request,
                       v1::SetStatResponse* response) override;
  grpc::Status Symlink(grpc::ServerContext* context,
                       const v1::SymlinkRequest* request,
                       v1::SymlinkResponse* response) override;
  grpc::Status ReadLink(grpc::ServerContext* context,
                        const v1::ReadLinkRequest* request,
                        v1::ReadLinkResponse* response) override;
  grpc::Status Link(grpc::ServerContext* context,
                    const v1::LinkRequest* request,
                    v1::LinkResponse* response) override;
  grpc::Status RealPath(grpc::ServerContext* context,
                        const v1::RealPathRequest* request,
                        v1::RealPathResponse* response) override;
  grpc::Status StatFs(grpc::ServerContext* context,
                      const v1::StatFsRequest* request,
                      v1::StatFsResponse* response) override;
  grpc::Status Usage(grpc::ServerContext* context,
                     const v1::UsageRequest* request,
                     v1::UsageResponse* response) override;
  grpc::Status Hash(grpc::ServerContext* context,
                    const v1::HashRequest* request,
                    v1::HashResponse* response) override;
  grpc::Status ListDir(
      grpc::ServerContext* context, const v1::ListDirRequest* request,
      grpc::ServerWriter<v1::ListDirResponse>* writer) override;
  grpc::Status Read(grpc::ServerContext* context,
                    const v1::ReadRequest* request,
                    grpc::ServerWriter<v1::ReadChunk>* writer) override;
  grpc::Status Write(grpc::ServerContext* context,
                     grpc::ServerReader<v1::WriteRequest>* reader,
                     v1::WriteResponse* response) override;

 private:
  Backend* const backend_;
  const Capabilities capabilities_;
  const ServeOptions options_;
};

}  // namespace sftpgate

#endif  // SFTPGATE_SDK_SRC_BACKEND_SERVICE_H_
