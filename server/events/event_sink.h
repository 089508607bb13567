// EventSink: where the front end reports what its users did (logins,
// committed uploads, removals, ...; see proto/sftpgate/v1/events.proto).
// The SSH and SFTP layers call Publish() right after the thing happened;
// EventPublisher (event_publisher.h) delivers the events to an `Events`
// gRPC service.
//
// Thread safety: implementations are thread-safe; Publish() is called from
// every event loop.

#ifndef SFTPGATE_SERVER_EVENTS_EVENT_SINK_H_
#define SFTPGATE_SERVER_EVENTS_EVENT_SINK_H_

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sftpgate/v1/events.pb.h"

namespace sftpgate::server {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Takes `event` for delivery. Never blocks on the network and never
  // fails the caller: an event that cannot be queued is dropped (and
  // counted) by the implementation. Fills in event_id.
  virtual void Publish(v1::Event event) = 0;
};

// A new event of `kind` in `session`, timed now; the caller adds the rest.
inline v1::Event NewEvent(v1::EventKind kind, const v1::Session& session,
                          std::string path = {}) {
  v1::Event event;
  event.set_kind(kind);
  event.set_time_unix_micros(absl::ToUnixMicros(absl::Now()));
  *event.mutable_session() = session;
  event.set_path(std::move(path));
  return event;
}

}  // namespace sftpgate::server

#endif  // SFTPGATE_SERVER_EVENTS_EVENT_SINK_H_
