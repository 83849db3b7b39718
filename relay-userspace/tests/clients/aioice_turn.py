"""Independent TURN client for the tests: aioice (PyPI), a Python ICE/TURN implementation.

Allocates on the relay, binds a channel to a UDP echo peer it runs itself, sends COUNT
messages through the relay and waits for every echo. Prints one JSON line; exit 0 only if
every message came back intact.
"""
import argparse
import asyncio
import json
import ssl
import sys

from aioice import turn


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


class Collector(asyncio.DatagramProtocol):
    def __init__(self):
        self.received = []
        self.event = asyncio.Event()

    def connection_made(self, transport):
        pass

    def datagram_received(self, data, addr):
        self.received.append((data, addr))
        self.event.set()


async def main(a):
    loop = asyncio.get_running_loop()
    peer_transport, _ = await loop.create_datagram_endpoint(Echo, local_addr=(a.peer_host, a.peer_port))
    ctx = None
    transport = "udp"
    if a.transport in ("tcp", "tls"):
        transport = "tcp"
    if a.transport == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_alpn_protocols(["stun.turn"])
    relay, collector = await turn.create_turn_endpoint(
        Collector, (a.server, a.port), a.username, a.password, ssl=ctx, transport=transport
    )
    relayed = relay.get_extra_info("sockname")
    sent = [f"msg-{i}-".encode() + bytes(range(256))[: a.size] for i in range(a.count)]
    for m in sent:
        relay.sendto(m, (a.peer_host, a.peer_port))
        await asyncio.sleep(0.005)
    deadline = loop.time() + 10
    while len(collector.received) < a.count and loop.time() < deadline:
        collector.event.clear()
        try:
            await asyncio.wait_for(collector.event.wait(), timeout=max(0.01, deadline - loop.time()))
        except asyncio.TimeoutError:
            break
    got = sorted(d for d, _ in collector.received)
    ok = got == sorted(sent) and all(addr == (a.peer_host, a.peer_port) for _, addr in collector.received)
    print(json.dumps({"relayed": list(relayed), "sent": len(sent), "received": len(got), "ok": ok}))
    relay.close()
    peer_transport.close()
    await asyncio.sleep(0.1)
    return 0 if ok else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--transport", choices=["udp", "tcp", "tls"], default="udp")
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--peer-host", required=True)
    p.add_argument("--peer-port", type=int, default=3490)
    p.add_argument("--count", type=int, default=50)
    p.add_argument("--size", type=int, default=160)
    sys.exit(asyncio.run(main(p.parse_args())))
