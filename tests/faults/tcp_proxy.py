# SPDX-License-Identifier: MIT
"""A TCP proxy whose death is a search-server outage that keeps the data.

``python tcp_proxy.py --listen 127.0.0.1:P --target 127.0.0.1:Q`` forwards
every connection made to ``P`` to ``Q``. The fault tests point the
application at ``P``: killing the proxy (SIGKILL) closes every connection
and refuses new ones, exactly as a killed search node does, while the
in-memory search server behind it keeps its indices, as a real node keeps
its data directory across a restart.

Standalone (no import of the project), so that it starts in milliseconds.
"""

import argparse
import asyncio
import sys


def _address(text):
    host, _, port = text.rpartition(":")
    return host or "127.0.0.1", int(port)


async def _pipe(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def _serve(listen, target):
    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, upstream_writer),
            _pipe(upstream_reader, client_writer),
        )

    server = await asyncio.start_server(handle, *listen, reuse_address=True)
    print(f"listening on {listen[0]}:{listen[1]}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv=None):
    """Run the proxy until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, type=_address)
    parser.add_argument("--target", required=True, type=_address)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.listen, args.target))


if __name__ == "__main__":
    sys.exit(main())
