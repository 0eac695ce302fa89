"""The sandbox's WebSocket echo server (Debian's python3-websockets): every message comes back.

Usage: /usr/bin/python3 ws_echo.py PORT  — listens on 127.0.0.1:PORT; nginx proxies /ws/echo here.
"""
import asyncio
import sys

import websockets


async def echo(websocket, path=None):
    async for message in websocket:
        await websocket.send(message)


async def main(port):
    async with websockets.serve(echo, "127.0.0.1", port):
        print(f"echo server ready on 127.0.0.1:{port}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
