"""The generated v1 contract modules.

CMake generates them at build time (backend-sdk/python/CMakeLists.txt) into
<build>/python; put that directory and backend-sdk/python on PYTHONPATH.

  pb        sftpgate/v1/backend_pb2       messages (Session, Attributes, ...)
  pb_grpc   sftpgate/v1/backend_pb2_grpc  the Backend service glue
  health_pb, health_pb_grpc               grpc.health.v1 (vendored proto)
"""

try:
    from sftpgate.v1 import backend_pb2 as pb
    from sftpgate.v1 import backend_pb2_grpc as pb_grpc
    from grpc_health.v1 import health_pb2 as health_pb
    from grpc_health.v1 import health_pb2_grpc as health_pb_grpc
except ImportError as exc:  # pragma: no cover - environment problem
    raise ImportError(
        "sftpgate_sdk: the generated gRPC stubs were not found (%s). Build "
        "the project (cmake --build BUILD) and put BUILD/python on "
        "PYTHONPATH, next to backend-sdk/python. Run with /usr/bin/python3, "
        "which sees Debian's python3-grpcio." % exc) from exc

__all__ = ["pb", "pb_grpc", "health_pb", "health_pb_grpc"]
