// EventPublisher: delivers events to an `Events` gRPC service
// (proto/sftpgate/v1/events.proto), at least once, from a bounded queue.
//
// Publish() appends to an in-memory queue of at most `queue_size` events
// and returns: it takes a mutex for a moment and never touches the
// network, so a slow or dead consumer cannot slow a client down. One
// sender thread takes batches from the head of the queue and calls
// Publish on the service; an event leaves the queue only once a call that
// carried it succeeded. A failed call is retried, same batch, after a
// backoff that doubles from `min_backoff` up to `max_backoff`, for as long
// as it takes. While the queue is full new events are dropped: each is
// counted (sftpgate_events_dropped_total) and the start and end of every
// dropping spell are logged (events_dropped, events_drop_ended) rather
// than every event, so a long outage cannot flood the log.
//
// Thread safety: Publish() from any thread; Start() and Stop() from the
// controlling thread.

#ifndef SFTPGATE_SERVER_EVENTS_EVENT_PUBLISHER_H_
#define SFTPGATE_SERVER_EVENTS_EVENT_PUBLISHER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/credentials.h"
#include "server/common/metrics.h"
#include "server/events/event_sink.h"
#include "sftpgate/v1/events.grpc.pb.h"

namespace sftpgate::server {

struct EventPublisherOptions {
  // gRPC target of the Events service (unix:/path, host:port, dns:///...).
  std::string target;
  // Events held for delivery at most; more are dropped.
  size_t queue_size = 10000;
  // Events per Publish call at most.
  size_t batch_size = 100;
  // Deadline of each Publish call.
  absl::Duration call_timeout = absl::Seconds(5);
  // Wait after a failed call: doubles from min to max.
  absl::Duration min_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(2);
  // Channel credentials (mutual TLS, sftpgate/grpc_tls.h); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // The name the service's certificate must carry when it is not the
  // target's host; empty: the host.
  std::string tls_server_name;
};

class EventPublisher final : public EventSink {
 public:
  // Connects lazily to options.target (or uses `stub`, for tests).
  explicit EventPublisher(
      EventPublisherOptions options,
      std::shared_ptr<v1::Events::StubInterface> stub = nullptr);
  // Stop()s with no flush time.
  ~EventPublisher() override;

  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Starts the sender thread.
  void Start();
  // See EventSink. Fills in event_id ("<process prefix>-<counter>").
  void Publish(v1::Event event) override;
  // Keeps sending what is queued for up to `flush` (e.g. the logouts of a
  // shutdown), then stops the sender; what is still queued is logged as
  // lost. Idempotent.
  void Stop(absl::Duration flush);

  // Events waiting for delivery (tests, metrics).
  size_t queued() const;

 private:
  void Run();
  // Waits `backoff` after a failed call (Stop() cuts the wait short; while
  // flushing it waits at most until the flush deadline).
  void Backoff(absl::Duration backoff);

  const EventPublisherOptions options_;
  std::shared_ptr<v1::Events::StubInterface> stub_;
  std::string id_prefix_;
  std::thread sender_;

  mutable absl::Mutex mu_;
  std::deque<v1::Event> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time flush_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Events dropped since the current dropping spell began (0: none).
  uint64_t dropping_ ABSL_GUARDED_BY(mu_) = 0;

  Gauge* const queued_metric_;
  Counter* const published_metric_;
  Counter* const dropped_metric_;
  Counter* const failures_metric_;
};

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_EVENTS_EVENT_PUBLISHER_H_
