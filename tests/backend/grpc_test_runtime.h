// Including this header keeps gRPC initialised for the whole test binary.
//
// Why: a test that builds and drops channels and servers one after another
// would otherwise let gRPC shut down and start again between tests, and
// the last callback channel or server to go could delete gRPC's shared
// callback queue from one of that queue's own threads (an abort; see
// server/backend/callback_queue_pin.h). One environment per binary,
// registered once however many files include this (an inline variable).

#ifndef SFTPGATE_TESTS_BACKEND_GRPC_TEST_RUNTIME_H_
#define SFTPGATE_TESTS_BACKEND_GRPC_TEST_RUNTIME_H_

#include "grpc/grpc.h"
#include "gtest/gtest.h"
#include "server/backend/callback_queue_pin.h"

namespace sftpgate::testing {

class GrpcTestRuntime : public ::testing::Environment {
 public:
  void SetUp() override {
    grpc_init();
    server::backend::PinCallbackQueue();
  }
};

inline ::testing::Environment* const kGrpcTestRuntime =
    ::testing::AddGlobalTestEnvironment(new GrpcTestRuntime);

}  // namespace sftpgate::testing

#endif  // SFTPGATE_TESTS_BACKEND_GRPC_TEST_RUNTIME_H_
