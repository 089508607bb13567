// GrpcIncomingStream<Resp, Wire>: IncomingStream (backend_client.h) over
// one server-streaming gRPC call (Read, ListDir).
//
// The call's messages arrive as `Wire` and are delivered as `Resp`: the
// same generated message (ListDir), or raw bytes decoded on gRPC's thread
// by FromWire (Read: grpc::ByteBuffer into DataChunk, data_chunk.h). A
// message that does not decode ends the stream with INTERNAL.
//
// How lifetimes work: a ReadReactor (gRPC callback reactor) runs the call
// and deletes itself in OnDone. It holds a gRPC "hold" from StartCall until
// the loop side is done with it, so the raw `reactor_` pointer below is
// valid exactly while `reactor_ != nullptr`. Completions are posted to the
// loop and delivered through a weak_ptr: once the owner drops the stream,
// late events vanish. Dropping the stream cancels the call.
//
// Thread safety: every method runs on the loop thread.

#ifndef SFTPGATE_SERVER_BACKEND_GRPC_INCOMING_STREAM_H_
#define SFTPGATE_SERVER_BACKEND_GRPC_INCOMING_STREAM_H_

#include <memory>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/client_callback.h"
#include "server/backend/backend_client.h"
#include "server/backend/backend_metrics.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace sftpgate::server::backend {

using BackendAsync = v1::Backend::StubInterface::async_interface;

// A message delivered as it arrived.
template <typename Message>
bool FromWire(Message* wire, Message* out) {
  *out = std::move(*wire);
  return true;
}

// A protobuf message decoded from a raw call's bytes, as gRPC's own
// deserializer would; false for bytes it refuses (an invalid UTF-8 string,
// a truncated message), which then end the stream with INTERNAL.
template <typename Message>
bool FromWire(grpc::ByteBuffer* wire, Message* out) {
  return grpc::SerializationTraits<Message>::Deserialize(wire, out).ok();
}

template <typename Resp, typename Wire = Resp>
class GrpcIncomingStream final
    : public IncomingStream<Resp>,
      public std::enable_shared_from_this<GrpcIncomingStream<Resp, Wire>> {
 public:
  using Handler = typename IncomingStream<Resp>::Handler;

  // Starts the call with `request` and requests the first message.
  // `start_call(context, request, reactor)` binds the call to its reactor
  // (a generated async method, or a raw call factory). The caller has
  // stamped the request's session.
  template <typename Req, typename StartCall>
  static std::shared_ptr<GrpcIncomingStream> Start(
      std::shared_ptr<LoopPoster> poster, Req request, Handler handler,
      StartCall start_call);

  ~GrpcIncomingStream() override { Cancel(); }

  void RequestNext() override {
    if (reactor_ != nullptr && !reading_) {
      reading_ = true;
      reactor_->Next();
    }
  }

  void Cancel() override {
    cancelled_ = true;
    if (!finished_) context_->TryCancel();
    ReleaseReactor();
  }

  bool finished() const override { return finished_; }

 private:
  class Reactor;

  GrpcIncomingStream(std::shared_ptr<LoopPoster> poster, Handler handler)
      : poster_(std::move(poster)),
        handler_(std::move(handler)),
        context_(std::make_shared<grpc::ClientContext>()) {}

  void OnMessage(Resp message) {
    reading_ = false;
    if (!cancelled_) handler_.on_message(std::move(message));
  }
  void OnReadEnded() {
    reading_ = false;
    ReleaseReactor();
  }
  void OnFinished(const grpc::Status& status) {
    finished_ = true;
    if (!cancelled_) handler_.on_finish(status);
  }
  void ReleaseReactor() {
    if (reactor_ != nullptr) {
      reactor_->RemoveHold();
      reactor_ = nullptr;
    }
  }

  std::shared_ptr<LoopPoster> poster_;
  Handler handler_;
  std::shared_ptr<grpc::ClientContext> context_;
  Reactor* reactor_ = nullptr;  // valid while non-null (we hold it)
  bool reading_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

template <typename Resp, typename Wire>
class GrpcIncomingStream<Resp, Wire>::Reactor final
    : public grpc::ClientReadReactor<Wire> {
 public:
  Reactor(std::shared_ptr<grpc::ClientContext> context,
          std::shared_ptr<LoopPoster> poster,
          std::weak_ptr<GrpcIncomingStream> stream,
          std::unique_ptr<google::protobuf::Message> request,
          Histogram* duration, Gauge* open)
      : context_(std::move(context)),
        poster_(std::move(poster)),
        stream_(std::move(stream)),
        request_(std::move(request)),
        duration_(duration),
        open_(open) {
    open_->Add(1);
  }

  void Next() { this->StartRead(&message_); }

  void OnReadDone(bool ok) override {
    // Take the message out before posting: once posted, the loop may call
    // Next() at once and gRPC starts filling message_ again. (Moving a
    // protobuf message swaps its contents: no payload copy.)
    Resp message;
    if (ok && !FromWire(&message_, &message)) {
      malformed_ = true;
      context_->TryCancel();
      ok = false;
    }
    message_.Clear();
    if (ok) {
      poster_->Post([stream = stream_, m = std::move(message)]() mutable {
        if (auto s = stream.lock()) s->OnMessage(std::move(m));
      });
    } else {
      poster_->Post([stream = stream_] {
        if (auto s = stream.lock()) s->OnReadEnded();
      });
    }
  }

  void OnDone(const grpc::Status& done_status) override {
    duration_->Observe(
        std::chrono::duration<double>(Clock::now() - start_).count());
    open_->Add(-1);
    const grpc::Status status =
        malformed_ ? grpc::Status(grpc::StatusCode::INTERNAL,
                                  "backend sent a malformed stream message")
                   : done_status;
    poster_->Post([stream = stream_, status] {
      if (auto s = stream.lock()) s->OnFinished(status);
    });
    delete this;
  }

 private:
  std::shared_ptr<grpc::ClientContext> context_;  // shared with the stream
  std::shared_ptr<LoopPoster> poster_;
  std::weak_ptr<GrpcIncomingStream> stream_;
  std::unique_ptr<google::protobuf::Message> request_;
  Histogram* const duration_;
  Gauge* const open_;
  const Clock::time_point start_ = Clock::now();
  Wire message_;
  bool malformed_ = false;  // a message did not decode; the call is cancelled
};

template <typename Resp, typename Wire>
template <typename Req, typename StartCall>
std::shared_ptr<GrpcIncomingStream<Resp, Wire>>
GrpcIncomingStream<Resp, Wire>::Start(std::shared_ptr<LoopPoster> poster,
                                      Req request, Handler handler,
                                      StartCall start_call) {
  std::shared_ptr<GrpcIncomingStream> stream(
      new GrpcIncomingStream(poster, std::move(handler)));
  auto owned = std::make_unique<Req>(std::move(request));
  const Req* req = owned.get();
  auto* reactor =
      new Reactor(stream->context_, std::move(poster), stream, std::move(owned),
                  BackendCallHistogram<Req>(), BackendStreamsOpen<Req>());
  stream->reactor_ = reactor;
  start_call(stream->context_.get(), req, reactor);
  reactor->AddHold();
  stream->RequestNext();
  reactor->StartCall();
  return stream;
}

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_GRPC_INCOMING_STREAM_H_
