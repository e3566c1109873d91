"""Dask for real, through the notebook image's own helper (images/notebook/dataops_notebook):
a Parquet dataset in a lake bucket of a real moto server on 127.0.0.1, aggregated by a real
distributed cluster, in both of the environments a notebook can be in.

- Without a gateway (the local stack, sandboxes), `cluster()` starts a LocalCluster of worker
  processes.
- On the hub, `cluster()` asks a real dask-gateway-server (the chart's version) for a cluster.
  The server runs the platform's own gateway code: `limits_config()` of components/dask_gateway.py,
  every block in the chart's (key) order, for a small test DaskConfig. One line follows it: the
  platform binds its per-user limit to the Kubernetes backend, and the test rebinds the same
  `limit_clusters_per_user` to dask-gateway's local-process backend, so only the base class
  differs from what runs in the cluster. With it: the per-user cluster cap, the worker-size
  bounds and the idle shutdown, each seen happen.

What this does not show: Kubernetes itself (pods, the controller, traefik), the hub's token
check (the test server uses simple password auth), and the image (its Python is 3.12; these
run the dev lock's same Dask versions on 3.11, which tests/images/test_dask_versions.py holds
equal).
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import boto3
import dask.config
import dask.dataframe as dd
import psutil
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dask_gateway import BasicAuth, Gateway, GatewayCluster
from dask_gateway.client import ClusterStatus
from distributed import LocalCluster
from pyarrow import fs as arrow_fs

from components.config import DaskConfig
from components.dask_gateway import limits_config
from dataops.plan import build_plan
from tests.dataops.test_verify import free_port, moto_server
from tests.images.helper import load_dataops_notebook

notebook = load_dataops_notebook()
BIN = Path(sys.executable).parent  # the venv's: dask-gateway-server, dask-scheduler
KEY, SECRET = "testing", "testing"  # moto accepts any
ZONE = "curated"
REGIONS = ("north", "south", "east", "west")
FILES, ROWS_PER_FILE = 4, 2_500
T = TypeVar("T")


def bounded(seconds: float, call: Callable[[], T]) -> T:
    """`call()`, failing the test instead of hanging it when it takes longer than `seconds` (a
    stuck client or cluster; no pytest timeout plugin here). The stuck thread is a daemon and
    does not keep the run alive."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"{getattr(call, '__name__', call)} did not finish within {seconds:.0f} s")
    if error:
        raise error[0]
    return result[0]


def wait_until(seconds: float, ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(0.2)


# -- the lake: moto on 127.0.0.1, the local stack's bucket names, a small Parquet dataset --------


@dataclass(frozen=True)
class Lake:
    endpoint: str  # host:port
    region: str
    bucket: str

    def filesystem(self) -> arrow_fs.S3FileSystem:
        # pyarrow's own S3 client: picklable with its settings, so workers get it with the task.
        return arrow_fs.S3FileSystem(
            access_key=KEY,
            secret_key=SECRET,
            endpoint_override=self.endpoint,
            scheme="http",
            region=self.region,
        )


@pytest.fixture(scope="module")
def lake() -> Iterator[Lake]:
    """A moto server as tests/dataops/test_verify.py starts it, but plain HTTP like the local
    stack's endpoint (components/local_endpoint.py), with the local stack's lake buckets."""
    with moto_server() as port:
        outputs = build_plan("local").outputs["lake"]
        s3 = boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name=outputs["region"],
        )
        for zone in outputs["zones"].values():
            s3.create_bucket(
                Bucket=zone["bucket"],
                CreateBucketConfiguration={"LocationConstraint": outputs["region"]},
            )
        lake = Lake(f"127.0.0.1:{port}", outputs["region"], outputs["zones"][ZONE]["bucket"])
        _write_sales(lake)
        yield lake


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - a loopback URL built here
            return True
    except OSError:
        return False


def region_of(row: int) -> str:
    return REGIONS[row % len(REGIONS)]


# The known answer, summed in plain Python over the rows _write_sales writes.
EXPECTED = {
    region: sum(row for row in range(FILES * ROWS_PER_FILE) if region_of(row) == region) for region in REGIONS
}


def _write_sales(lake: Lake) -> None:
    """FILES Parquet files of (region, amount = row number) rows under `sales/`."""
    fs = lake.filesystem()
    for part in range(FILES):
        rows = range(part * ROWS_PER_FILE, (part + 1) * ROWS_PER_FILE)
        table = pa.table(
            {"region": [region_of(row) for row in rows], "amount": pa.array(rows, type=pa.int64())}
        )
        pq.write_table(table, f"{lake.bucket}/sales/part-{part}.parquet", filesystem=fs)


def sales_by_region(client: Any, lake: Lake) -> dict[str, int]:
    """The aggregate, computed by `client`'s cluster: its workers read the Parquet files."""
    sales = dd.read_parquet(f"{lake.bucket}/sales/", filesystem=lake.filesystem())
    assert sales.npartitions == FILES
    result = client.compute(sales.groupby("region").amount.sum()).result(timeout=120)
    return {region: int(total) for region, total in result.items()}


@contextlib.contextmanager
def dask_environment(variables: dict[str, str]) -> Iterator[None]:
    """The DASK_GATEWAY__* variables exactly `variables` (as the hub sets them for a notebook,
    or none), read into the dask config as a new kernel would; restored afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("DASK_GATEWAY__")]:
            patch.delenv(name)
        for name, value in variables.items():
            patch.setenv(name, value)
        dask.config.refresh()
        try:
            yield
        finally:
            patch.undo()
            dask.config.refresh()


# -- without a gateway: a LocalCluster ------------------------------------------------------------


@pytest.fixture(scope="module")
def local_client(lake) -> Iterator[Any]:
    """One LocalCluster for the module, from the helper with no gateway configured."""
    with dask_environment({}):
        assert notebook.gateway_address() is None
        client = bounded(120, lambda: notebook.cluster(workers=2))
    try:
        yield client
    finally:
        workers = client.run(os.getpid, wait=True)
        bounded(60, client.shutdown)
        assert client.cluster.status.name == "closed"
        wait_until(30, lambda: not any(psutil.pid_exists(p) for p in workers.values()), "workers end")


def test_without_a_gateway_the_helper_starts_a_local_cluster(local_client, lake):
    assert isinstance(local_client.cluster, LocalCluster)
    bounded(120, lambda: local_client.wait_for_workers(2, timeout=100))
    # Worker processes, not threads of this one: the same isolation the gateway's workers have.
    assert os.getpid() not in local_client.run(os.getpid).values()
    assert sales_by_region(local_client, lake) == EXPECTED


# -- on the hub: a real gateway server running the platform's limits code -------------------------

# Small enough for this machine; maxClustersPerUser 1 makes the cap visible with one cluster.
DASK = DaskConfig.model_validate(
    {
        "workerCores": 1.0,
        "workerCoresMax": 2.0,
        "workerMemoryGib": 1.0,
        "workerMemoryGibMax": 2.0,
        "maxClustersPerUser": 1,
        "maxCoresPerUser": 4.0,
        "maxMemoryGibPerUser": 8.0,
        "idleTimeoutMinutes": 5,
    }
)
PASSWORD = "not-a-secret"  # the throwaway test server's shared password
# The only line that differs from the platform's code: its per-user limit around the local
# backend instead of the Kubernetes one.
LOCAL_BACKEND = """\
from dask_gateway_server.backends.local import UnsafeLocalBackend

c.DaskGateway.backend_class = limit_clusters_per_user(UnsafeLocalBackend)
"""
# The config model allows no idle timeout under 5 minutes, too long for a test: the second
# server overrides the seconds after the platform's code has set them (the chart appends its
# blocks in the same way, so a later line wins), and nothing else.
IDLE_SECONDS = 5
SHORT_IDLE = f"c.ClusterConfig.idle_timeout = {IDLE_SECONDS}\n"


@dataclass
class GatewayServer:
    address: str  # the HTTP API, as DASK_GATEWAY__ADDRESS
    proxy_address: str  # the scheduler proxy, as DASK_GATEWAY__PROXY_ADDRESS
    clusters: Path  # every scheduler's and worker's working directory is under it
    process: subprocess.Popen
    log: Path

    def connect(self, user: str) -> Gateway:
        return Gateway(self.address, proxy_address=self.proxy_address, auth=BasicAuth(user, PASSWORD))

    def client_environment(self, user: str) -> dict[str, str]:
        """What the hub sets for a notebook (components/dask_gateway.py hub_values), with simple
        password auth instead of the hub's tokens."""
        return {
            "DASK_GATEWAY__ADDRESS": self.address,
            "DASK_GATEWAY__PROXY_ADDRESS": self.proxy_address,
            "DASK_GATEWAY__PUBLIC_ADDRESS": self.address,
            "DASK_GATEWAY__AUTH__TYPE": "basic",
            "DASK_GATEWAY__AUTH__KWARGS__USERNAME": user,
            "DASK_GATEWAY__AUTH__KWARGS__PASSWORD": PASSWORD,
        }

    def processes(self) -> list[psutil.Process]:
        """This server's schedulers and workers (run in the clusters directory, each in its own
        session) and its proxy: whatever is still running."""
        found = []
        for process in psutil.process_iter(["cwd", "cmdline"]):
            cwd, cmdline = process.info["cwd"] or "", process.info["cmdline"] or []
            port = self.address.rpartition(":")[2]
            if cwd.startswith(str(self.clusters)) or f"127.0.0.1:{port}" in cmdline:
                found.append(process)
        return found


def gateway_config(api: int, proxy: int, scheduler_proxy: int, clusters: Path, after: str) -> str:
    """The server's config file: where it listens and how it authenticates (what the chart sets
    for the platform), then the platform's blocks in the chart's order, then `after`."""
    blocks = [code for _, code in sorted(limits_config(DASK).items())]
    return "\n".join(
        [
            f'c.DaskGateway.address = "127.0.0.1:{api}"',
            f'c.Proxy.address = "127.0.0.1:{proxy}"',
            f'c.Proxy.tcp_address = "127.0.0.1:{scheduler_proxy}"',
            'c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"',
            f"c.SimpleAuthenticator.password = {PASSWORD!r}",
            f"c.LocalBackend.clusters_directory = {str(clusters)!r}",
            *blocks,
            LOCAL_BACKEND,
            after,
        ]
    )


@contextlib.contextmanager
def gateway_server(directory: Path, after: str = "") -> Iterator[GatewayServer]:
    api, proxy, scheduler_proxy = free_port(), free_port(), free_port()
    clusters = directory / "clusters"
    clusters.mkdir()
    config = directory / "dask_gateway_config.py"
    config.write_text(gateway_config(api, proxy, scheduler_proxy, clusters, after))
    log = directory / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "dask-gateway-server"), "-f", str(config)],
            cwd=directory,
            # The backend starts `dask-scheduler` and `dask-worker` from PATH, as the image does.
            env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = GatewayServer(
        f"http://127.0.0.1:{proxy}", f"gateway://127.0.0.1:{scheduler_proxy}", clusters, process, log
    )
    try:
        wait_until(
            60,
            lambda: process.poll() is not None or _answers(f"{server.address}/api/health"),
            "dask-gateway-server answers",
        )
        assert process.poll() is None, f"dask-gateway-server exited:\n{log.read_text()[-3000:]}"
        yield server
    finally:
        _stop(server)


def _stop(server: GatewayServer) -> None:
    """SIGTERM: the server stops every cluster it runs, then its proxy. Anything left after that
    is killed and fails the module."""
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)
    left = server.processes()
    for process in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    assert [p.info["cmdline"] for p in left] == [], f"left running; log:\n{server.log.read_text()[-3000:]}"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory) -> Iterator[GatewayServer]:
    with gateway_server(tmp_path_factory.mktemp("gateway")) as server:
        try:
            yield server
        finally:
            # The helper keeps its gateway clients (and their event-loop threads) for the
            # process's life; the tests after this module run without them.
            notebook._close_gateways()
            # dask_gateway's finaliser of a closed Gateway fails, and Python 3.11 formats the
            # ignored exception's traceback with `ast`: run inside another test's ast.parse (a
            # garbage collection there), that breaks its parse (AST constructor recursion depth
            # mismatch). Collected here, the finalisers run now.
            gc.collect()


@pytest.fixture(scope="module")
def idle_gateway(tmp_path_factory) -> Iterator[GatewayServer]:
    with gateway_server(tmp_path_factory.mktemp("idle-gateway"), after=SHORT_IDLE) as server:
        yield server


def test_on_the_hub_the_helper_gets_a_gateway_cluster(gateway, lake):
    def scenario() -> None:
        with (
            dask_environment(gateway.client_environment("carol")),
            notebook.cluster(workers=2, worker_cores=1.0, worker_memory_gib=1.0) as client,
        ):
            assert isinstance(client.cluster, GatewayCluster)
            name = client.cluster.name
            client.wait_for_workers(2, timeout=100)
            assert sales_by_region(client, lake) == EXPECTED
            with gateway.connect("carol") as carol:
                assert carol.get_cluster(name).options == {"worker_cores": 1.0, "worker_memory_gib": 1.0}
            # The platform's idle timeout reached the scheduler: its dask-gateway service (the
            # scheduler preload the backend starts it with) holds it. Asked of the scheduler
            # itself: its command line may be replaced by a process title (setproctitle).
            timeouts = client.run_on_scheduler(
                lambda dask_scheduler: [
                    p.service.idle_timeout for p in dask_scheduler.plugins.values() if hasattr(p, "service")
                ]
            )
            assert timeouts == [DASK.idle_timeout_minutes * 60]
        # Leaving the block stopped the cluster on the gateway.
        with gateway.connect("carol") as carol:
            assert carol.list_clusters() == []
            # STOPPING until the backend has seen its processes end.
            wait_until(30, lambda: carol.get_cluster(name).status == ClusterStatus.STOPPED, "stopped")

    bounded(240, scenario)


def test_a_user_runs_at_most_max_clusters_per_user(gateway):
    def scenario() -> None:
        with gateway.connect("alice") as alice, gateway.connect("bob") as bob:
            first = alice.new_cluster()
            try:
                # `submit`, the call that asks: a refused `new_cluster` leaves a half-made cluster
                # whose client, garbage-collected on another client's event loop, hangs it.
                with pytest.raises(
                    ValueError, match=r"^alice already runs 1 Dask clusters, the most allowed"
                ):
                    alice.submit()
                assert [c.name for c in alice.list_clusters()] == [first.name]
                # The cap is per user: another user still gets a cluster.
                bob.new_cluster().shutdown()
            finally:
                first.shutdown()
            # One shut down, one may start.
            again = alice.new_cluster()
            again.shutdown()
            assert alice.list_clusters() == []

    bounded(240, scenario)


@pytest.mark.parametrize(
    ("option", "value", "refusal"),
    [
        ("worker_cores", DASK.worker_cores_max + 0.5, f"worker_cores must be <= {DASK.worker_cores_max:f}"),
        ("worker_cores", 0.1, "worker_cores must be >= 0.25"),
        (
            "worker_memory_gib",
            DASK.worker_memory_gib_max * 2,
            f"worker_memory_gib must be <= {DASK.worker_memory_gib_max:f}",
        ),
    ],
)
def test_a_worker_size_out_of_bounds_is_refused(gateway, option, value, refusal):
    def scenario() -> None:
        with gateway.connect("dave") as dave:
            with pytest.raises(ValueError, match=f"^{refusal}"):
                dave.submit(**{option: value})
            assert dave.list_clusters() == []

    bounded(60, scenario)


def test_the_helper_passes_a_refusal_on_and_leaves_no_cluster(gateway):
    def scenario() -> None:
        with (
            dask_environment(gateway.client_environment("frank")),
            pytest.raises(ValueError, match=r"^worker_cores must be <="),
        ):
            notebook.cluster(worker_cores=DASK.worker_cores_max * 2)
        with gateway.connect("frank") as frank:
            assert frank.list_clusters() == []

    bounded(60, scenario)


# A kernel: a Python process that starts a cluster through the helper and exits normally.
KERNEL = """
import dataops_notebook
client = dataops_notebook.cluster(workers=0, stop_with_kernel={keep})
print(client.cluster.name, flush=True)
"""


def kernel_cluster(gateway: GatewayServer, user: str, *, stop_with_kernel: bool) -> str:
    """The name of the cluster a kernel started before it exited."""
    done = subprocess.run(
        [sys.executable, "-c", KERNEL.format(keep=stop_with_kernel)],
        env={
            **os.environ,
            **gateway.client_environment(user),
            "PYTHONPATH": str(notebook_dir()),
            "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the image's build context
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()[-1]


def notebook_dir() -> Path:
    return Path(notebook.__file__).parent.parent


def test_a_cluster_stops_with_its_kernel_unless_asked_to_outlive_it(gateway):
    def scenario() -> None:
        with gateway.connect("grace") as grace:
            stopped = kernel_cluster(gateway, "grace", stop_with_kernel=True)
            wait_until(30, lambda: grace.get_cluster(stopped).status == ClusterStatus.STOPPED, "stopped")
            kept = kernel_cluster(gateway, "grace", stop_with_kernel=False)
            assert [c.name for c in grace.list_clusters()] == [kept]
            assert grace.get_cluster(kept).status == ClusterStatus.RUNNING
            grace.stop_cluster(kept)

    bounded(300, scenario)


def test_an_idle_cluster_shuts_itself_down(idle_gateway):
    def scenario() -> float:
        with idle_gateway.connect("erin") as erin:
            started = time.monotonic()
            cluster = erin.new_cluster(shutdown_on_close=False)
            name = cluster.name
            cluster.close()  # this client lets go; nobody stops the cluster
            wait_until(90, lambda: erin.get_cluster(name).status == ClusterStatus.STOPPED, "idle stop")
            assert erin.list_clusters() == []
            return time.monotonic() - started

    # No sooner than the idle timeout: the idle check, not a failure, stopped it.
    assert bounded(120, scenario) >= IDLE_SECONDS
