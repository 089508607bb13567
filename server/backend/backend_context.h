// BackendContext: what every backend call of one session needs: the stub,
// the Session sent on each request, the poster that brings completions
// back to the loop, and the per-call deadline.
//
// Thread safety: immutable after construction; shared by the session and
// its stream objects (all on the loop thread) and read by gRPC callbacks
// only through the poster.

#ifndef SFTPGATE_SERVER_BACKEND_BACKEND_CONTEXT_H_
#define SFTPGATE_SERVER_BACKEND_BACKEND_CONTEXT_H_

#include <chrono>
#include <memory>

#include "server/backend/loop_poster.h"
#include "server/backend/transfer_budget.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::server::sftp {

using Clock = std::chrono::steady_clock;
using BackendAsync = v1::Backend::StubInterface::async_interface;

struct BackendContext {
  std::shared_ptr<v1::Backend::StubInterface> stub;
  v1::Session session;
  std::shared_ptr<LoopPoster> poster;
  // Deadline of unary calls; longest a stream may keep a client request
  // waiting without progress.
  std::chrono::milliseconds call_timeout;
  // What the session's transfers may buffer (never null).
  std::shared_ptr<TransferBudget> budget;

  BackendAsync* async() const { return stub->async(); }
};

}  // namespace sftpgate::server::sftp

#endif  // SFTPGATE_SERVER_BACKEND_BACKEND_CONTEXT_H_
