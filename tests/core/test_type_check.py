"""A type checker sees the setters and getters made at run time: a typical pipeline script
checks clean, a misspelt setter or a value of the wrong type does not. And CI runs the type
check and the format check the README names."""

from __future__ import annotations

import re
import sys
import textwrap

import pytest
from tests_support import REPO

PIPELINE = """
from pyspark.ml import Pipeline

from sparkner.annotator import (
    NerConverter,
    NerDLApproach,
    NerDLModel,
    SentenceDetector,
    Tokenizer,
    WordEmbeddingsModel,
)
from sparkner.base import DocumentAssembler, Finisher

document = DocumentAssembler().setInputCol("text").setOutputCol("document")
sentence = SentenceDetector().setInputCols(["document"]).setOutputCol("sentence")
token = Tokenizer().setInputCols(["sentence"]).setOutputCol("token").setMinLength(2)
embeddings = (
    WordEmbeddingsModel.pretrained()
    .setInputCols(["sentence", "token"])
    .setOutputCol("embeddings")
)
ner = NerDLModel.pretrained().setInputCols("sentence", "token", "embeddings").setOutputCol("ner")
chunks = NerConverter().setInputCols(["sentence", "token", "ner"]).setOutputCol("ner_chunk")
finisher = Finisher().setInputCols(["ner_chunk"]).setCleanAnnotations(False)
pipeline = Pipeline(stages=[document, sentence, token, embeddings, ner, chunks, finisher])

approach = (
    NerDLApproach()
    .setInputCols(["sentence", "token", "embeddings"])
    .setOutputCol("ner")
    .setLabelColumn("label")
    .setMaxEpochs(3)
    .setLr(0.003)
    .setVerbose(0)
)
epochs: int = approach.getMaxEpochs()
rate: float = approach.getOrDefault(approach.lr)
columns: list[str] = approach.getInputCols()
reveal_type(NerConverter().setOutputCol("chunk"))
"""

MISTAKES = """
from sparkner.annotator import NerDLApproach, Tokenizer

NerDLApproach().setMaxEpoch(3)
NerDLApproach().setMaxEpochs("3")
Tokenizer().setOutputCol("token").setSplitChar(["-"])
name: int = Tokenizer().getOutputCol()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A folder where sparkner is installed, as pip would (the editable install's import
    hook is invisible to type checkers)."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "sparkner").symlink_to(REPO / "sparkner", target_is_directory=True)
    return folder


def _mypy(tmp_path, monkeypatch, site, source: str) -> tuple[str, int]:
    """mypy's report on ``source``, with sparkner seen as an installed package (its own
    errors are not the script's) and no project settings."""
    api = pytest.importorskip("mypy.api")
    from mypy import modulefinder

    # mypy run in this process reads its search path from sys.path, less the first entry.
    monkeypatch.setattr(sys, "path", [sys.path[0], str(site), *sys.path[1:]])
    modulefinder.get_search_dirs.cache_clear()
    monkeypatch.chdir(tmp_path)  # else mypy finds the repository's sparkner as source code
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    cache = str(tmp_path / "cache")
    try:
        out, err, status = api.run(
            ["--config-file=", "--cache-dir", cache, "--python-version", "3.10", str(script)]
        )
    finally:
        modulefinder.get_search_dirs.cache_clear()  # sys.path is restored after the test
    return out + err, status


# A cold mypy run reads pyspark's types: several seconds.
@pytest.mark.slow
def test_a_typical_pipeline_script_type_checks(tmp_path, monkeypatch, site):
    report, status = _mypy(tmp_path, monkeypatch, site, PIPELINE)
    assert status == 0, report
    assert 'Revealed type is "sparkner.annotators.ner_converter.NerConverter"' in report


@pytest.mark.slow
def test_a_misspelt_setter_and_a_wrong_value_are_refused(tmp_path, monkeypatch, site):
    report, status = _mypy(tmp_path, monkeypatch, site, MISTAKES)
    assert status == 1, report
    assert '"NerDLApproach" has no attribute "setMaxEpoch"; maybe "setMaxEpochs"' in report
    assert 'Argument 1 to "setMaxEpochs" of "NerDLApproach" has incompatible type "str"' in report
    assert '"Tokenizer" has no attribute "setSplitChar"' in report
    assert 'expression has type "str", variable has type "int"' in report
    assert "Found 4 errors in 1 file" in report


def test_ci_runs_the_readme_commands_with_the_format_and_type_checks():
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Install, test, try", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```bash\n(.*?)```", section, flags=re.S)[0]
    commands = block.strip().splitlines()
    assert {"ruff check .", "ruff format --check .", "mypy"} <= set(commands)
    ci = (REPO / ".ci" / "run").read_text()
    assert "\n".join(commands) in ci, ".ci/run must repeat the README's commands word for word"
