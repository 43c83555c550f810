"""No recipe value can add a line or a command to launch.sh or slurm.sbatch.

The schema already refuses control characters in names, paths and slurm
fields; these tests go around it and hand the emitter every control character
and shell metacharacter in every free-text field (enumerated fields such as
training.precision can only hold their enum's words), then check that both scripts
pass `bash -n`, hold only their template's lines, and, when run (with a stub
python, scontrol and srun), create no marker file.
"""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path

import pytest

from ftc.compiler import compile_recipe
from ftc.compiler.emit.bundle import bundle_files, write_bundle_files
from ftc.compiler.emit.templates import slurm_sbatch
from ftc.compiler.validate import load_schema

from .bundle_checks import check_script

CONTROL = "".join(chr(c) for c in range(32)) + "\x7f\x85\u2028\u2029"
META = "$`\\\"';&|<>(){}[]*?!#~%^=,\t "


def payloads(marker: Path) -> list[str]:
    cmd = f"touch {marker}"
    return [CONTROL + META,
            f"\n{cmd}\n", f"\r{cmd}\r", f"x$({cmd})", f"x`{cmd}`", f"x; {cmd}",
            f"x' ; {cmd} ; '", f'x" ; {cmd} ; "', f"x\\\n{cmd}", f"x && {cmd} #",
            f"--partition=x\n#SBATCH --wrap='{cmd}'"]


SLURM_RECIPE = """\
name: inject
description: a job
model: {base: org/model, revision: main, tokenizer: org/tok}
method: {kind: lora}
data: {train: data/train.jsonl, validation: data/val.jsonl, system_prompt: be brief}
hardware:
  accelerator: gpu
  gpus: 2
  nodes: 2
  launcher: slurm
  slurm: {partition: gpu, account: ml, time: "1:00:00", mem: 64G, cpus_per_task: 8}
logging: {project: p}
"""


def string_paths(values, prefix=(), schema=None):
    """Every key path whose value is free text (a string the schema does not enumerate)."""
    schema = load_schema() if schema is None else schema
    if isinstance(values, dict):
        for key, value in values.items():
            yield from string_paths(value, prefix + (key,),
                                    schema.get("properties", {}).get(key, {}))
    elif isinstance(values, list):
        alternatives = [schema, *schema.get("oneOf", [])]
        items = next((a["items"] for a in alternatives if "items" in a), {})
        for index, value in enumerate(values):
            yield from string_paths(value, prefix + (index,), items)
    elif isinstance(values, str) and "enum" not in schema:
        yield prefix


def put(values: dict, path: tuple, value: str) -> dict:
    out = copy.deepcopy(values)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    root = tmp_path_factory.mktemp("inject")
    (root / "recipe.yaml").write_text(SLURM_RECIPE, encoding="utf-8")
    result = compile_recipe(root / "recipe.yaml")
    assert result.ok, result.diagnostics
    return result


@pytest.fixture(scope="module")
def stub_path(tmp_path_factory) -> str:
    """A PATH whose python, scontrol and srun do nothing (the scripts' only commands)."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for name in ("scontrol", "srun", "python"):
        stub = bin_dir / name
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}"


def test_the_fields_that_reach_the_scripts_are_among_those_tried(compiled):
    fields = set(string_paths(compiled.values))
    assert {("name",), ("description",), ("model", "base"), ("data", "train", 0),
            ("data", "system_prompt"), ("output_dir",), ("hardware", "slurm", "partition"),
            ("hardware", "slurm", "account"), ("hardware", "slurm", "time"),
            ("hardware", "slurm", "mem")} <= fields


def check_bundle_scripts(values, compiled, out: Path, marker: Path, env: dict, what: str):
    files = bundle_files(values, compiled.provenance, compiled.recipe_path, out)
    write_bundle_files(files, out, str(out))
    for script, template in (("launch.sh", "launch.sh.tmpl"),
                             ("slurm.sbatch", "slurm.sbatch.tmpl")):
        check_script(out / script, template)
        proc = subprocess.run(["bash", script], cwd=out, env=env, capture_output=True,
                              text=True, timeout=30)
        assert proc.returncode == 0, (what, script, proc.stderr)
        assert not marker.exists(), f"{what} ran a command through {script}"


@pytest.fixture
def run_env(stub_path):
    return {**os.environ, "PATH": stub_path, "FTC_PYTHON": "python",
            "SLURM_JOB_NODELIST": "n1", "SLURM_NODEID": "0", "SLURM_JOB_ID": "1"}


def test_no_field_adds_a_line_or_a_command(compiled, tmp_path, run_env):
    """Each field alone holds every payload at once."""
    marker = tmp_path / "MARKER"
    everything = "".join(payloads(marker))
    for number, path in enumerate(string_paths(compiled.values)):
        check_bundle_scripts(put(compiled.values, path, everything), compiled,
                             tmp_path / f"f{number}", marker, run_env, ".".join(map(str, path)))


def test_no_payload_adds_a_line_or_a_command(compiled, tmp_path, run_env):
    """Each payload alone, in every field at once (quotes in one field meet another's)."""
    marker = tmp_path / "MARKER"
    for number, payload in enumerate(payloads(marker)):
        values = compiled.values
        for path in string_paths(compiled.values):
            values = put(values, path, payload)
        check_bundle_scripts(values, compiled, tmp_path / f"p{number}", marker, run_env,
                             f"payload {number}")


def test_a_count_that_is_not_an_int_never_reaches_a_script(compiled):
    values = put(compiled.values, ("hardware", "nodes"), "2; touch x")
    with pytest.raises(TypeError):
        slurm_sbatch(values, values)
