"""grpc.health.v1.Health for the Python SDK (Debian ships no module for it).

The server as a whole ("") and the sftpgate.v1.Backend service are SERVING
while the backend runs and turn NOT_SERVING when shutdown begins, so client-
side health checking stops sending new calls to a backend that is leaving.

Thread safety: all methods may be called from any thread.
"""

import threading

import grpc

from .proto import health_pb, health_pb_grpc

__all__ = ["HealthServicer", "BACKEND_SERVICE"]

BACKEND_SERVICE = "sftpgate.v1.Backend"

_Status = health_pb.HealthCheckResponse


class HealthServicer(health_pb_grpc.HealthServicer):
    """Check and Watch over a table of service name -> serving status."""

    def __init__(self, services=("", BACKEND_SERVICE)):
        self._condition = threading.Condition()
        self._statuses = {name: _Status.SERVING for name in services}
        self._closed = False

    def set(self, service, status):
        """Sets `service`'s status (a HealthCheckResponse.ServingStatus)."""
        with self._condition:
            self._statuses[service] = status
            self._condition.notify_all()

    def set_all_not_serving(self):
        """Marks every service NOT_SERVING; called when shutdown starts."""
        with self._condition:
            for name in self._statuses:
                self._statuses[name] = _Status.NOT_SERVING
            self._condition.notify_all()

    def close(self):
        """Ends every Watch stream (after their last status)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def Check(self, request, context):
        with self._condition:
            status = self._statuses.get(request.service)
        if status is None:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        return _Status(status=status)

    def Watch(self, request, context):
        last = None
        while True:
            with self._condition:
                while (self._statuses.get(request.service, _Status.SERVICE_UNKNOWN) == last
                       and not self._closed and context.is_active()):
                    # Wake now and then to notice a client that went away.
                    self._condition.wait(timeout=1.0)
                if self._closed or not context.is_active():
                    return
                last = self._statuses.get(request.service, _Status.SERVICE_UNKNOWN)
            yield _Status(status=last)
