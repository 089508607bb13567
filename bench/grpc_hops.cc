// grpc_hops: what one backend call costs the calling process, by the way
// its completion reaches an event-loop thread. A probe for
// bench/analysis.md, not a benchmark of sftpgate itself.
//
// A loop thread (poll on an eventfd, as the front end's loops do) makes
// `--calls` Stat calls one after another, each after the previous one's
// answer reached the loop, against a running backend:
//   callback  gRPC's callback API; the reaction posts to the loop (what
//             the front end does today)
//   cq        the async API on a completion queue that a thread of ours
//             drains with Next() and posts to the loop
//   sync      a blocking call on the loop thread itself (the floor: no
//             hand-off at all, but a loop that blocks)
// Prints microseconds, context switches (all threads) and CPU
// microseconds per call.
//
// Usage: sftpgate-grpc-hops --backend 127.0.0.1:PORT [--calls 20000]
//        [--mode callback|cq|sync]

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "sftpgate/v1/backend.grpc.pb.h"

namespace {

using sftpgate::v1::Backend;
using sftpgate::v1::StatRequest;
using sftpgate::v1::StatResponse;

// Voluntary + involuntary context switches of every thread of this
// process, those that have exited included.
long ContextSwitches() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_nvcsw + usage.ru_nivcsw;
}

double CpuMicros() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e6 + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_sec * 1e6 + usage.ru_stime.tv_usec;
}

// The loop side: waits on an eventfd that completions write.
class Waker {
 public:
  Waker() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  ~Waker() { close(fd_); }
  void Post() {
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof(one));
  }
  void Wait() {
    pollfd p = {fd_, POLLIN, 0};
    uint64_t count;
    while (read(fd_, &count, sizeof(count)) < 0) poll(&p, 1, -1);
  }

 private:
  const int fd_;
};

StatRequest Request() {
  StatRequest request;
  request.mutable_session()->set_user("probe");
  request.mutable_session()->set_root("/");
  request.set_path("/");
  return request;
}

void RunCallback(Backend::Stub* stub, int calls, Waker* waker) {
  const StatRequest request = Request();
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    StatResponse response;
    stub->async()->Stat(&context, &request, &response,
                        [waker](grpc::Status) { waker->Post(); });
    waker->Wait();
  }
}

void RunCq(Backend::Stub* stub, int calls, Waker* waker) {
  grpc::CompletionQueue cq;
  std::thread drainer([&cq, waker] {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) waker->Post();
  });
  const StatRequest request = Request();
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    StatResponse response;
    grpc::Status status;
    auto call = stub->AsyncStat(&context, request, &cq);
    call->Finish(&response, &status, &context);
    waker->Wait();
  }
  cq.Shutdown();
  drainer.join();
}

void RunSync(Backend::Stub* stub, int calls) {
  const StatRequest request = Request();
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    StatResponse response;
    (void)stub->Stat(&context, request, &response);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string backend, mode = "callback";
  int calls = 20000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--backend") backend = argv[i + 1];
    if (flag == "--mode") mode = argv[i + 1];
    if (flag == "--calls") calls = std::atoi(argv[i + 1]);
  }
  if (backend.empty() || calls <= 0 ||
      (mode != "callback" && mode != "cq" && mode != "sync")) {
    std::fprintf(stderr,
                 "usage: %s --backend HOST:PORT [--calls N] "
                 "[--mode callback|cq|sync]\n",
                 argv[0]);
    return 2;
  }
  auto stub = Backend::NewStub(
      grpc::CreateChannel(backend, grpc::InsecureChannelCredentials()));
  Waker waker;
  std::function<void(int)> run = [&](int n) {
    if (mode == "callback") RunCallback(stub.get(), n, &waker);
    if (mode == "cq") RunCq(stub.get(), n, &waker);
    if (mode == "sync") RunSync(stub.get(), n);
  };
  // On a thread of its own, like a front-end loop; a first round connects
  // and warms up.
  std::thread([&] { run(200); }).join();
  const long switches = ContextSwitches();
  const double cpu = CpuMicros();
  const auto start = std::chrono::steady_clock::now();
  std::thread([&] { run(calls); }).join();
  const double wall = std::chrono::duration<double, std::micro>(
                          std::chrono::steady_clock::now() - start)
                          .count();
  std::printf("%-8s %6.1f us/call %5.2f switches/call %6.1f cpu-us/call\n",
              mode.c_str(), wall / calls,
              double(ContextSwitches() - switches) / calls,
              (CpuMicros() - cpu) / calls);
  return 0;
}
