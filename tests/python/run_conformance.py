#!/usr/bin/python3
"""ctest python_sdk_conformance: the Python SDK's example backend
(backend-sdk/python/examples/memory_backend.py, via its launcher
bin/sftpgate-python-memory-backend) passes the conformance suite."""

import sys

import backend_harness as h

if __name__ == "__main__":
    sys.exit(h.conformance_main("python-memory-backend",
                                [h.binary("sftpgate-python-memory-backend")]))
