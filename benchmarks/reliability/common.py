"""Shared by the reliability scripts (and tests/reliability): a real `salesdash serve` on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_CSV = ROOT / "data" / "raw" / "sales_data_sample.csv"
SMALL_CSV = ROOT / "tests" / "data" / "small.csv"
RESULTS = Path(__file__).resolve().parent / "results"


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def process_tree(pid: int) -> dict[str, float]:
    """RSS (MB) of ``pid`` and of its whole tree, and how many of the tree are Chrome/Chromium processes."""
    own = tree = 0.0
    browsers = 0
    for child in descendants(pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
            # Chromium rewrites its children's command lines into one string: the program is the first word
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
            program = cmdline.split(" ")[0]
        except OSError:
            continue
        rss = next(
            (int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0
        )
        tree += rss
        if child == pid:
            own = rss
        if "chrom" in Path(program).name.lower():
            browsers += 1
    return {"server_rss_mb": round(own, 1), "tree_rss_mb": round(tree, 1), "browser_processes": browsers}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A `salesdash serve` child process (in its own process group, with any browser it starts for exports)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.log.parent

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]

    def kill(self) -> None:
        """SIGKILL the whole server (its process group), as a crash or the OOM killer would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """Graceful stop (SIGTERM); returns the exit code."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        return int(self.process.returncode)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def start_server(workdir: Path, database_url: str, timeout: float = 60.0, **settings: str) -> Server:
    """Start `salesdash serve` against ``database_url`` (extra SALESDASH_* settings as keyword arguments)."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "SALESDASH_DATABASE_URL": database_url,
        "SALESDASH_LOG_LEVEL": "WARNING",
    } | {f"SALESDASH_{k.upper()}": v for k, v in settings.items()}
    log = workdir / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "salesdash", "serve", "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() reaches its children too
        )
    server = Server(f"http://127.0.0.1:{port}", process, log, env)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early ({process.returncode}):\n{server.output()}")
        try:
            if server.get("/api/health").status_code in (200, 503):
                return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server did not answer within {timeout:.0f} s:\n{server.output()}")
