// The Write call's request messages (proto/sftpgate/v1/backend.proto,
// WriteRequest) as ready-to-send bytes.
//
// The upload path sends WriteRequests as grpc::ByteBuffers on a raw call
// (backend_stub.h): a chunk is encoded here with one copy of its payload,
// from the client's packet into the slice that goes on the wire. Through
// the generated stub it would be copied twice, into WriteChunk.data and
// again when gRPC serializes the message. The bytes are exactly what
// protobuf parses as the same WriteRequest; the backend side is unchanged.
//
// Thread safety: pure functions.

#ifndef SFTPGATE_SERVER_BACKEND_WRITE_REQUEST_ENCODING_H_
#define SFTPGATE_SERVER_BACKEND_WRITE_REQUEST_ENCODING_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "grpcpp/support/byte_buffer.h"
#include "sftpgate/v1/backend.pb.h"

namespace sftpgate::server::backend {

// WriteRequest{chunk: {offset: `offset`, data: `data`}}, in one slice.
grpc::ByteBuffer EncodeWriteChunk(uint64_t offset, absl::string_view data);

// WriteRequest{commit: {}}.
grpc::ByteBuffer EncodeWriteCommit();

// `message` serialized (used for the first message: session and header).
grpc::ByteBuffer EncodeWriteRequest(const v1::WriteRequest& message);

}  // namespace sftpgate::server::backend

#endif  // SFTPGATE_SERVER_BACKEND_WRITE_REQUEST_ENCODING_H_
