// PinCallbackQueue: keeps gRPC's shared callback completion queue alive
// until the process exits.
//
// Why: gRPC 1.51 on Linux (epoll1, no background poller) delivers every
// callback-API completion on one process-wide completion queue served by
// its own "nexting" threads. Channels and servers that make or serve
// callback calls hold references to it; when the last one lets go, the
// queue is shut down, its threads joined and the queue deleted, right in
// that destructor. A Channel's last reference is often held by a
// ClientContext, and a reactor that owns its context is deleted in OnDone,
// on a nexting thread: that thread then deletes the queue it is running
// on and returns into freed memory (abort in grpc_cq_internal_unref,
// "assertion failed: prior > 0"). It needs the last channel and the last
// server to go at nearly the same moment, so it shows as a rare abort when
// tests start and stop servers and channels one after another, and could
// strike the front end at shutdown. One reference held for the whole
// process keeps the count above zero while any callback can still run.
//
// Thread safety: call once, early in main() or a test environment's SetUp,
// after grpc_init(); later calls do nothing. Blocks for one local call that
// fails at once (no network traffic).

#ifndef SFTPGATE_SERVER_BACKEND_CALLBACK_QUEUE_PIN_H_
#define SFTPGATE_SERVER_BACKEND_CALLBACK_QUEUE_PIN_H_

namespace sftpgate::server::backend {

void PinCallbackQueue();

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_CALLBACK_QUEUE_PIN_H_
