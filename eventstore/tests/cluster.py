"""A 3-node NATS JetStream cluster of local nats-servers for the fault suite (the compose layout, without Docker).

Each node has its own client port, cluster port, store directory, config file and log; the routes name all
three. ``kill(node)`` is a SIGKILL (a crashed node), ``start(node)`` brings it back on the same store.
"""

from __future__ import annotations

import signal
from pathlib import Path

from devtools.processes import LoggedProcess, stop
from eventstore.tests.processes import port_in_use, run_async, wait_until
from mallbots_site.embedded import nats_server_binary

CLUSTER_NAME = "mallbots-faults"


def _free_ports(first: int, count: int) -> list[int]:
    ports, port = [], first
    while len(ports) < count:
        if port >= 32768:
            raise RuntimeError(f"no {count} free ports from {first}")
        if not port_in_use(port):
            ports.append(port)
        port += 1
    return ports


class NatsCluster:
    def __init__(self, directory: Path, first_port: int, size: int = 3) -> None:
        self.directory = Path(directory)
        ports = _free_ports(first_port, size * 2)
        self.client_ports, self.cluster_ports = ports[:size], ports[size:]
        self.names = [f"n{i + 1}" for i in range(size)]
        self.processes: dict[str, LoggedProcess | None] = {name: None for name in self.names}

    @property
    def url(self) -> str:
        """The comma-separated server list of ``NATS_URL`` (architecture.md §15)."""
        return ",".join(f"nats://127.0.0.1:{port}" for port in self.client_ports)

    def node_url(self, name: str) -> str:
        return f"nats://127.0.0.1:{self.client_ports[self.names.index(name)]}"

    def config(self, name: str) -> Path:
        index = self.names.index(name)
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.cluster_ports)
        path = self.directory / f"{name}.conf"
        path.write_text(
            f"server_name: {name}\n"
            f"listen: 127.0.0.1:{self.client_ports[index]}\n"
            f'jetstream {{ store_dir: "{self.directory / name}" }}\n'
            f"cluster {{\n  name: {CLUSTER_NAME}\n  listen: 127.0.0.1:{self.cluster_ports[index]}\n"
            f"  routes: [ {routes} ]\n}}\n")
        return path

    def start(self, name: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        process = LoggedProcess([nats_server_binary(), "-c", str(self.config(name))], self.directory / f"{name}.log",
                                append=True, start_new_session=True)
        self.processes[name] = process
        port = self.client_ports[self.names.index(name)]
        wait_until(lambda: port_in_use(port) or process.poll() is not None, 15, f"nats {name} on {port}")
        if process.poll() is not None:
            raise RuntimeError(f"nats-server {name} exited; see {process.log_path}")

    def start_all(self, timeout: float = 60.0) -> None:
        for name in self.names:
            self.start(name)
        wait_until(self._jetstream_ready, timeout, "the cluster's JetStream meta leader", interval=0.5)

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        self.processes[name] = None

    def stop_all(self) -> None:
        stop(*[p for p in self.processes.values() if p is not None], timeout=10)
        self.processes = {name: None for name in self.names}

    def running(self) -> list[str]:
        return [name for name, p in self.processes.items() if p is not None and p.poll() is None]

    def _jetstream_ready(self) -> bool:
        async def probe():
            import nats

            client = await nats.connect(servers=[self.node_url(n) for n in self.running()], connect_timeout=2,
                                        max_reconnect_attempts=0, allow_reconnect=False)
            try:
                info = await client.jetstream().account_info()
                return info is not None
            finally:
                await client.close()

        try:
            return run_async(probe, timeout=5)
        except Exception:  # noqa: BLE001 - not elected yet
            return False

    def stream_leader(self, stream: str) -> str:
        """The server name leading ``stream``'s raft group (the node whose loss forces an election)."""
        async def read():
            import nats

            client = await nats.connect(servers=[self.node_url(n) for n in self.running()], connect_timeout=2,
                                        max_reconnect_attempts=0, allow_reconnect=False)
            try:
                return (await client.jetstream().stream_info(stream)).cluster.leader
            finally:
                await client.close()

        return run_async(read, timeout=10)
