#include "server/events/event_publisher.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/common/log.h"

namespace sftpgate::server {
namespace {

std::shared_ptr<v1::Events::StubInterface> MakeStub(
    const EventPublisherOptions& options) {
  grpc::ChannelArguments args;
  // Reconnect about as often as the publisher retries: a consumer that
  // comes back is reached within max_backoff, not gRPC's default 2 min.
  const int max_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.min_backoff)));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.min_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, max_ms);
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return v1::Events::NewStub(grpc::CreateCustomChannel(
      options.target,
      options.credentials != nullptr ? options.credentials
                                     : grpc::InsecureChannelCredentials(),
      args));
}

}  // namespace

EventPublisher::EventPublisher(EventPublisherOptions options,
                               std::shared_ptr<v1::Events::StubInterface> stub)
    : options_(std::move(options)),
      stub_(stub != nullptr ? std::move(stub) : MakeStub(options_)),
      queued_metric_(Metrics::Global().GetGauge(
          "sftpgate_events_queued",
          "Events waiting for delivery to the --events service")),
      published_metric_(Metrics::Global().GetCounter(
          "sftpgate_events_published_total",
          "Events the --events service acknowledged")),
      dropped_metric_(Metrics::Global().GetCounter(
          "sftpgate_events_dropped_total",
          "Events dropped because the queue (events_queue_size) was full")),
      failures_metric_(Metrics::Global().GetCounter(
          "sftpgate_events_publish_failures_total",
          "Failed Publish calls to the --events service (each retried)")) {
  std::random_device random;
  id_prefix_ = absl::StrFormat("%08x", random());
}

EventPublisher::~EventPublisher() { Stop(absl::ZeroDuration()); }

void EventPublisher::Start() {
  sender_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sftpgate-events");
    Run();
  });
}

void EventPublisher::Publish(v1::Event event) {
  bool drop_began = false;
  {
    absl::MutexLock lock(&mu_);
    event.set_event_id(absl::StrCat(id_prefix_, "-", next_id_++));
    if (queue_.size() >= options_.queue_size || stopping_) {
      drop_began = dropping_++ == 0;
    } else {
      queue_.push_back(std::move(event));
      queued_metric_->Add(1);
      return;
    }
  }
  dropped_metric_->Increment();
  if (drop_began) {
    LogEvent(LogLevel::kWarning, "events_dropped",
             {{"reason", "queue full"},
              {"queue_size", absl::StrCat(options_.queue_size)},
              {"kind", v1::EventKind_Name(event.kind())},
              {"event_id", event.event_id()}});
  }
}

size_t EventPublisher::queued() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void EventPublisher::Backoff(absl::Duration backoff) {
  absl::Time until = absl::Now() + backoff;
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      // Stop() ends the wait: its flush then retries at once.
      mu_.AwaitWithDeadline(absl::Condition(&stopping_), until);
      return;
    }
    until = std::min(until, flush_deadline_);
  }
  // Flushing: keep the pace, but not past the flush deadline.
  absl::SleepFor(until - absl::Now());
}

void EventPublisher::Run() {
  absl::Duration backoff = options_.min_backoff;
  bool failing = false;
  while (true) {
    v1::PublishRequest request;
    absl::Time deadline = absl::Now() + options_.call_timeout;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_ && (queue_.empty() || absl::Now() >= flush_deadline_)) {
        break;
      }
      if (stopping_) deadline = std::min(deadline, flush_deadline_);
      // Copies: the events stay queued until a call carrying them succeeds.
      const size_t n = std::min(queue_.size(), options_.batch_size);
      for (size_t i = 0; i < n; ++i) *request.add_events() = queue_[i];
    }
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline));
    v1::PublishResponse response;
    grpc::Status status = stub_->Publish(&context, request, &response);
    if (!status.ok()) {
      failures_metric_->Increment();
      if (!failing) {
        failing = true;
        LogEvent(LogLevel::kWarning, "events_publish_failed",
                 {{"target", options_.target},
                  {"code", absl::StrCat(status.error_code())},
                  {"error", status.error_message()},
                  {"queued", absl::StrCat(queued())}});
      }
      Backoff(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    const size_t sent = static_cast<size_t>(request.events_size());
    uint64_t dropped = 0;
    size_t left = 0;
    {
      absl::MutexLock lock(&mu_);
      queue_.erase(queue_.begin(), queue_.begin() + sent);
      left = queue_.size();
      // A dropping spell ends once there is room again.
      if (dropping_ > 0 && left < options_.queue_size) {
        dropped = dropping_;
        dropping_ = 0;
      }
    }
    queued_metric_->Add(-static_cast<int64_t>(sent));
    published_metric_->Increment(sent);
    backoff = options_.min_backoff;
    if (failing) {
      failing = false;
      LogEvent(LogLevel::kInfo, "events_publish_resumed",
               {{"target", options_.target}, {"queued", absl::StrCat(left)}});
    }
    if (dropped > 0) {
      LogEvent(LogLevel::kWarning, "events_drop_ended",
               {{"dropped", absl::StrCat(dropped)}});
    }
  }
}

void EventPublisher::Stop(absl::Duration flush) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    flush_deadline_ = absl::Now() + flush;
  }
  if (sender_.joinable()) sender_.join();
  const size_t lost = queued();
  if (lost > 0) {
    LogEvent(LogLevel::kWarning, "events_lost_at_shutdown",
             {{"queued", absl::StrCat(lost)}});
  }
}

}  // namespace sftpgate::server
