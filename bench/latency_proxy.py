"""A TCP proxy that delays every byte by a fixed time in each direction,
without limiting bandwidth: a store "far away" on loopback (bench/s3.py's
--s3-store-delay-ms). Runs in a thread of the caller's process.

Each direction reads what arrives, stamps it, and a writer sends it once
its time has come, so reading goes on while earlier bytes wait: the
round-trip time grows by twice the delay, the throughput of a long
transfer does not (the queue holds one delay's worth of bytes).
"""

import asyncio
import threading
import time


class LatencyProxy:
    """Listens on 127.0.0.1:<port> and forwards to `target` (host, port)."""

    def __init__(self, target, delay_ms):
        self.target = target
        self.delay = delay_ms / 1000.0
        self.port = None
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(10)
        if self.port is None:
            raise RuntimeError("latency proxy did not start")

    def _run(self, ready):
        asyncio.set_event_loop(self._loop)

        async def start():
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
        self._loop.run_until_complete(start())
        self._loop.run_forever()

    async def _serve(self, client_reader, client_writer):
        try:
            store_reader, store_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(self._pipe(client_reader, store_writer),
                                 self._pipe(store_reader, client_writer),
                                 return_exceptions=True)
        finally:
            client_writer.close()
            store_writer.close()

    async def _pipe(self, reader, writer):
        queue = asyncio.Queue()

        async def send():
            while True:
                due, data = await queue.get()
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    writer.close()
                    return
                writer.write(data)
                await writer.drain()
        sender = asyncio.ensure_future(send())
        try:
            while True:
                data = await reader.read(1 << 18)
                queue.put_nowait((time.monotonic() + self.delay, data or None))
                if not data:
                    break
            await sender
        except (ConnectionError, OSError):
            sender.cancel()
            writer.close()

    def stop(self):
        async def shutdown():
            self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
