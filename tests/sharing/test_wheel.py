"""A normal (non-editable) install works: the wheel carries the schema, templates and recipes.

The wheel is built from this checkout and installed into a fresh venv (no system
site-packages, so nothing leaks in from the dev environment); every verb that needs no
training stack then runs from a directory far from the source tree, without PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a venv, a wheel build and a pip install: ~15-30 s


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv with the ftc wheel (and only its compiler dependencies)."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(tmp / "dist"), str(ROOT)], check=True, env=env,
                   capture_output=True)
    wheel = next((tmp / "dist").glob("ftc-*.whl"))
    venv.create(tmp / "venv", with_pip=True, system_site_packages=False)
    bin_dir = tmp / "venv" / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q",
                    "--disable-pip-version-check", str(wheel)], check=True, env=env,
                   capture_output=True)
    return bin_dir


def ftc(bin_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(bin_dir / "ftc"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_installed_package_is_not_the_checkout(installed, tmp_path):
    out = subprocess.run([str(installed / "python"), "-c", "import ftc; print(ftc.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    assert "site-packages" in out.stdout and str(ROOT) not in out.stdout


def test_schema_path_exists_in_the_install(installed, tmp_path):
    r = ftc(installed, tmp_path, "schema")
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip())
    assert path.is_file() and "site-packages" in str(path)
    printed = ftc(installed, tmp_path, "schema", "--print")
    assert json.loads(printed.stdout)["title"]


def test_lint_compile_explain_from_the_install(installed, tmp_path):
    cp = ftc(installed, tmp_path, "recipes", "cp", "quickstart", "mine")
    assert cp.returncode == 0, cp.stderr
    recipe = tmp_path / "mine" / "quickstart.yaml"
    lint = ftc(installed, tmp_path, "lint", "--format", "json", str(recipe))
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert all(d["severity"] != "error" for d in json.loads(lint.stdout))
    comp = ftc(installed, tmp_path, "compile", str(recipe), "-o", "bundle")
    assert comp.returncode == 0, comp.stderr
    assert (tmp_path / "bundle" / "launch.sh").is_file()
    assert "-m ftc.runtime recipe.lock.yaml" in (tmp_path / "bundle" / "launch.sh").read_text()
    exp = ftc(installed, tmp_path, "explain", str(recipe), "method.kind", "--json")
    assert exp.returncode == 0 and json.loads(exp.stdout)[0]["value"] == "lora"


def test_catalog_from_the_install(installed, tmp_path):
    ls = ftc(installed, tmp_path, "recipes", "ls", "--format", "json")
    assert ls.returncode == 0, ls.stderr
    names = {r["name"] for r in json.loads(ls.stdout)}
    assert {"quickstart", "llama-3.1-8b-qlora"} <= names
    cp = ftc(installed, tmp_path, "recipes", "cp", "llama-3.1-8b-qlora", "team")
    assert cp.returncode == 0, cp.stderr
    lint = ftc(installed, tmp_path, "lint", str(tmp_path / "team" / "llama-3.1-8b-qlora.yaml"))
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_sdist_carries_the_same_data(tmp_path):
    import tarfile

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                    "b.build_sdist(sys.argv[1])", str(tmp_path)], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    with tarfile.open(next(tmp_path.glob("ftc-*.tar.gz"))) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    assert {"ftc/share/schemas/recipe.schema.json", "ftc/share/launch/launch.sh.tmpl",
            "ftc/share/recipes/quickstart.yaml", "ftc/share/recipes/data/tickets/train.jsonl",
            "ftc/tables/hyperparameters.yaml"} <= names


def test_the_other_compiler_side_verbs_from_the_install(installed, tmp_path):
    assert ftc(installed, tmp_path, "recipes", "cp", "llama-3.1-8b-lora", "t").returncode == 0
    assert ftc(installed, tmp_path, "recipes", "cp", "llama-3.1-8b-qlora", "t").returncode == 0
    diff = ftc(installed, tmp_path, "diff", "t/llama-3.1-8b-lora.yaml",
               "t/llama-3.1-8b-qlora.yaml", "--json")
    assert diff.returncode == 0, diff.stderr
    assert "method.kind" in {r["path"] for r in json.loads(diff.stdout)["changes"]}
    est = ftc(installed, tmp_path, "estimate", "t/llama-3.1-8b-qlora.yaml", "--json")
    assert est.returncode == 0 and json.loads(est.stdout)["fits"] is True, est.stderr
    rec = ftc(installed, tmp_path, "recommend", "--examples", "2000", "--json")
    assert rec.returncode == 0 and json.loads(rec.stdout)["approach"], rec.stderr
    new = ftc(installed, tmp_path, "new", "--approach", "lora", "--base-model",
              "meta-llama/Llama-3.1-8B", "-o", "new.yaml")
    assert new.returncode == 0, new.stderr
    assert ftc(installed, tmp_path, "lint", "new.yaml").returncode == 0
    rules = ftc(installed, tmp_path, "lint", "--list-rules", "--format", "json")
    assert {"FTC101", "FTC370"} <= {r["id"] for r in json.loads(rules.stdout)}
