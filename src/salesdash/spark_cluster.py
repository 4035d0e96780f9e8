"""A local Apache Spark cluster from the PySpark package: a standalone master, workers and a Spark Connect server.

For trying salesdash on Spark (``salesdash spark start|stop|status``) and for the tests (one cluster per test
session). Every process binds 127.0.0.1 on free ports, runs in the foreground as a child of its own process group
(so it is stopped by its id), logs into the run directory, and is waited for by polling: the master's JSON status
until every worker is ALIVE, then the Connect port until a session answers a query.

A real deployment points ``SALESDASH_DATABASE_URL`` at its own Spark Connect endpoint instead (docs/scaling.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from salesdash.errors import ConfigError, StoreUnavailable

STATE_FILE = "cluster.json"
CONNECT_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


def spark_home() -> Path:
    """The Spark distribution bundled in the pyspark package."""
    try:
        import pyspark
    except ImportError:
        raise ConfigError(
            "pyspark is not installed; `make install` installs it (the `spark` extra)."
        ) from None
    return Path(pyspark.__file__).resolve().parent


def java_available() -> bool:
    return shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def default_run_dir() -> Path:
    from salesdash.store.spark import cache_dir

    return cache_dir() / "spark"


@dataclass
class ClusterConfig:
    run_dir: Path
    workers: int = 2
    worker_cores: int = 1
    worker_memory: str = "2g"
    executor_memory: str = "1536m"
    driver_memory: str = "2g"  # the Connect server holds each uploaded Arrow batch (1g ran out at 1M lines)
    connect_port: int = 0  # 0: a free port
    shuffle_partitions: int = 8


@dataclass
class ClusterState:
    run_dir: str
    connect_port: int
    master_port: int
    master_ui_port: int
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.connect_port}"

    def save(self) -> None:
        path = Path(self.run_dir) / STATE_FILE
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")

    @classmethod
    def load(cls, run_dir: Path) -> ClusterState | None:
        path = run_dir / STATE_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (ValueError, TypeError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _env(config: ClusterConfig) -> dict[str, str]:
    home = spark_home()
    env = dict(os.environ)
    env.update(
        SPARK_HOME=str(home),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_MASTER_HOST="127.0.0.1",
        SPARK_LOG_DIR=str(config.run_dir / "logs"),
        SPARK_WORKER_DIR=str(config.run_dir / "work"),
        SPARK_DAEMON_MEMORY="512m",
        SPARK_NO_DAEMONIZE="1",
        PYSPARK_PYTHON=env.get("PYSPARK_PYTHON", "python3"),
    )
    return env


def _spawn(name: str, command: list[str], config: ClusterConfig, env: dict[str, str]) -> int:
    log = (config.run_dir / "logs" / f"{name}.log").open("ab")
    try:
        process = subprocess.Popen(  # noqa: S603 -- fixed command from the pyspark package
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=config.run_dir,
            env=env,
            start_new_session=True,
        )
    finally:
        log.close()
    return process.pid


def _master_status(ui_port: int) -> dict[str, Any] | None:
    try:
        url = f"http://127.0.0.1:{ui_port}/json/"  # the local master only
        with urllib.request.urlopen(url, timeout=2) as response:  # nosec B310
            data: dict[str, Any] = json.loads(response.read())
            return data
    except (OSError, ValueError):
        return None


def _wait(what: str, ready: Any, state: ClusterState, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        dead = [name for name, pid in state.pids.items() if not _alive(pid)]
        if dead:
            raise StoreUnavailable(
                f"The local Spark cluster did not start: {', '.join(dead)} exited; see {state.run_dir}/logs."
            )
        if time.monotonic() >= deadline:
            raise StoreUnavailable(f"The local Spark cluster did not start in {timeout:.0f} s ({what}).")
        time.sleep(0.25)


def connect_answers(url: str) -> bool:
    """Whether a Spark Connect session at ``url`` runs a query."""
    from pyspark.sql import SparkSession

    try:
        session = SparkSession.builder.remote(url).create()
    except Exception:
        return False
    try:
        return bool(session.sql("SELECT 1 AS one").collect()[0][0] == 1)
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            session.stop()


def start(config: ClusterConfig, timeout: float = 240.0) -> ClusterState:
    """Start a master, ``config.workers`` workers and a Connect server; return when a query runs."""
    if not java_available():
        raise ConfigError(
            "Spark needs Java 17 (a JRE): install one (e.g. apt-get install openjdk-17-jre-headless)."
        )
    existing = ClusterState.load(config.run_dir)
    if existing is not None and any(_alive(pid) for pid in existing.pids.values()):
        raise ConfigError(f"A local Spark cluster already runs from {config.run_dir} ({existing.url}).")
    if config.connect_port and port_open(config.connect_port):
        raise ConfigError(f"Port {config.connect_port} is in use; choose another with --port.")
    # the in-memory catalog starts empty: so do the tables of an earlier run
    shutil.rmtree(config.run_dir / "warehouse", ignore_errors=True)
    for sub in ("logs", "work", "warehouse"):
        (config.run_dir / sub).mkdir(parents=True, exist_ok=True)
    home = spark_home()
    env = _env(config)
    spark_class = str(home / "bin" / "spark-class")
    state = ClusterState(
        run_dir=str(config.run_dir),
        connect_port=config.connect_port or free_port(),
        master_port=free_port(),
        master_ui_port=free_port(),
    )
    try:
        state.pids["master"] = _spawn(
            "master",
            [
                spark_class,
                MASTER_CLASS,
                "--host",
                "127.0.0.1",
                "--port",
                str(state.master_port),
                "--webui-port",
                str(state.master_ui_port),
            ],
            config,
            env,
        )
        state.save()
        _wait("master", lambda: _master_status(state.master_ui_port) is not None, state, timeout)
        master = f"spark://127.0.0.1:{state.master_port}"
        for i in range(config.workers):
            worker_dir = config.run_dir / "work" / f"worker{i}"
            worker_dir.mkdir(parents=True, exist_ok=True)
            state.pids[f"worker{i}"] = _spawn(
                f"worker{i}",
                [
                    spark_class,
                    WORKER_CLASS,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(free_port()),
                    "--webui-port",
                    str(free_port()),
                    "--cores",
                    str(config.worker_cores),
                    "--memory",
                    config.worker_memory,
                    "--work-dir",
                    str(worker_dir),
                    master,
                ],
                config,
                env,
            )
        state.save()

        def workers_alive() -> bool:
            status = _master_status(state.master_ui_port) or {}
            alive = [w for w in status.get("workers", []) if w.get("state") == "ALIVE"]
            return len(alive) >= config.workers

        _wait("workers", workers_alive, state, timeout)
        state.pids["connect"] = _spawn("connect", _connect_command(config, state, master, home), config, env)
        state.save()
        _wait("Spark Connect server", lambda: port_open(state.connect_port), state, timeout)
        _wait("Spark Connect session", lambda: connect_answers(state.url), state, timeout)
    except BaseException:
        stop(state)
        raise
    return state


def _connect_command(config: ClusterConfig, state: ClusterState, master: str, home: Path) -> list[str]:
    warehouse = (config.run_dir / "warehouse").resolve()
    confs = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(state.connect_port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.executor.memory": config.executor_memory,
        "spark.executor.cores": str(config.worker_cores),
        "spark.cores.max": str(config.workers * config.worker_cores),
        "spark.sql.shuffle.partitions": str(config.shuffle_partitions),
        "spark.sql.warehouse.dir": warehouse.as_uri(),
        "spark.sql.session.timeZone": "UTC",
        "spark.connect.grpc.maxInboundMessageSize": str(256 * 1024 * 1024),
    }
    confs["spark.sql.catalogImplementation"] = "in-memory"  # the catalog lives while the server runs
    command = [str(home / "bin" / "spark-submit"), "--class", CONNECT_CLASS, "--name", "salesdash-connect"]
    command += ["--master", master, "--driver-memory", config.driver_memory]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    jar = next((home / "jars").glob("spark-connect_*.jar"))
    return [*command, str(jar)]


def stop(state: ClusterState, timeout: float = 60.0) -> None:
    """Stop the cluster's processes (Connect server first), each by its own process group id."""
    order = ["connect", *sorted(k for k in state.pids if k.startswith("worker")), "master"]
    for name in order:
        pid = state.pids.get(name)
        if pid is None or not _alive(pid):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _reap(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            _reap(pid)
    with contextlib.suppress(FileNotFoundError):
        (Path(state.run_dir) / STATE_FILE).unlink()


def _reap(pid: int) -> bool:
    """Collect ``pid`` if it is our exited child; True while it still runs."""
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return _alive(pid)


def status(run_dir: Path) -> tuple[ClusterState | None, dict[str, bool]]:
    """The recorded cluster of ``run_dir`` and which of its processes are alive."""
    state = ClusterState.load(run_dir)
    if state is None:
        return None, {}
    return state, {name: _alive(pid) for name, pid in state.pids.items()}


__all__ = [
    "ClusterConfig",
    "ClusterState",
    "connect_answers",
    "default_run_dir",
    "free_port",
    "java_available",
    "spark_home",
    "start",
    "status",
    "stop",
]
