#!/usr/bin/python3
"""A sample consumer of sftpgate's event notifications (events.proto).

sftpgate started with `--events grpc:TARGET` calls this service's Publish
with batches of events (logins, logouts, committed uploads, finished
downloads, removals, renames, mkdir, rmdir). Each event is appended to a
file as one JSON line (protobuf's JSON mapping: "eventId", "kind",
"session", "path", ...):

    events_consumer.py --listen unix:/run/sftpgate/events.sock \\
        --output /var/log/sftpgate/events.jsonl

Delivery is at least once: sftpgate sends a batch again when it did not
get the answer (the consumer was killed after writing, say). The consumer
therefore remembers the event ids it has written (reading them back from
the output file when it starts) and skips repeats, so the file holds each
event once. A batch is written and flushed to the file before Publish
returns OK; a failure (the file cannot be written) answers UNAVAILABLE and
sftpgate retries the batch later.

Across machines, give it --tls-cert, --tls-key and --tls-client-ca (mutual
TLS: only a front end with a certificate from that CA, started with
--events-tls-cert/-key/-ca, gets in); a unix socket is created 0600 unless
--socket-mode says 0660.

Run it with /usr/bin/python3 and the Python SDK and the generated stubs on
PYTHONPATH (the CMake launcher build/bin/sftpgate-events-consumer does
that). "-" as the output writes to stdout.
"""

import concurrent.futures
import json
import os
import sys
import threading

import grpc
from google.protobuf import json_format

try:
    from sftpgate.v1 import events_pb2, events_pb2_grpc
    from sftpgate_sdk import cli
    from sftpgate_sdk.server import (add_listener_arguments,
                                     listener_options, serve_service)
except ImportError as exc:  # pragma: no cover - environment problem
    raise SystemExit(
        "events_consumer: the generated stubs were not found (%s); build the "
        "project and put BUILD/python on PYTHONPATH" % exc) from exc


def read_seen_ids(path):
    """Event ids already in the output file (a torn last line is
    ignored: that event was not acknowledged and will come again)."""
    seen = set()
    if path == "-" or not os.path.exists(path):
        return seen
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                seen.add(json.loads(line)["eventId"])
            except (ValueError, KeyError):
                continue
    return seen


class Consumer(events_pb2_grpc.EventsServicer):
    """Appends each new event to the output as one JSON line."""

    def __init__(self, output):
        self._lock = threading.Lock()
        self._seen = read_seen_ids(output)
        self._out = (sys.stdout if output == "-" else
                     open(output, "a", encoding="utf-8"))

    def Publish(self, request, context):
        with self._lock:
            lines = []
            for event in request.events:
                if event.event_id in self._seen:
                    continue  # a batch sent again: written already
                lines.append(json.dumps(json_format.MessageToDict(event),
                                        sort_keys=True) + "\n")
            try:
                self._out.write("".join(lines))
                self._out.flush()
            except OSError as error:
                context.abort(grpc.StatusCode.UNAVAILABLE,
                              "cannot write events: %s" % error)
            self._seen.update(e.event_id for e in request.events)
        return events_pb2.PublishResponse()


def serve(args):
    server = grpc.server(concurrent.futures.ThreadPoolExecutor(
        max_workers=4, thread_name_prefix="events"))
    events_pb2_grpc.add_EventsServicer_to_server(Consumer(args.output), server)
    serve_service(server, args.listen, "events_consumer",
                  **listener_options(args))


def main():
    parser = cli.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:7200",
                        help="host:port (port 0: any free port) or unix:/path")
    parser.add_argument("--output", default="-",
                        help="file the JSON lines are appended to (- : stdout)")
    add_listener_arguments(parser)
    serve(parser.parse_args())


if __name__ == "__main__":
    main()
