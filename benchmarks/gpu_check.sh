#!/usr/bin/env bash
# GPU check for the cluster strategies (issue 11): one GPU, bf16 LoRA with precision auto,
# QLoRA on CUDA, DeepSpeed ZeRO-3 and FSDP (one process each), the preflight's device
# count. The CPU test suite cannot run these (accelerate runs FSDP only on GPUs).
#
#     OUT=/some/dir bash benchmarks/gpu_check.sh      (about 4-6 minutes on one GPU)
#
# Self-contained: uses a Python whose torch already sees a GPU (FTC_GPU_PYTHON, else
# python3/python on PATH, else common locations); never installs torch. The pinned
# libraries (pyproject.toml's train extra, torch excepted) are used when that Python
# has them, else installed into a virtual environment on top of it (system site
# packages visible, torch held at its version). Anything missing: it says why, writes
# the reason to $OUT/gpu_check.json and exits 0. Results: $OUT/gpu_check.json,
# $OUT/gpu_check.txt, $OUT/logs/.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$REPO/gpu-check-out}"
mkdir -p "$OUT/logs"
VENV="${FTC_GPU_VENV:-/tmp/ftc-gpu-venv}"
PINS=(transformers==5.24.0 tokenizers==0.23.3 trl==1.16.0 peft==0.21.2 accelerate==1.15.0
      deepspeed==0.19.8 bitsandbytes==0.50.2 datasets==5.2.0 safetensors==0.8.0
      tensorboard==2.21.0 rich==15.0.0 datasketch==2.0.0 jsonschema==4.26.0
      ruamel.yaml==0.19.1 ruamel.yaml.clib==0.2.15 psutil)

say() { echo "[gpu_check] $*" | tee -a "$OUT/gpu_check.txt"; }
skip() {
  say "SKIPPED: $*"
  REASON="$*" "${PY:-python3}" -c 'import json, os; print(json.dumps({"skipped": os.environ["REASON"]}))' \
    > "$OUT/gpu_check.json" 2>/dev/null || printf '{"skipped": "see gpu_check.txt"}\n' > "$OUT/gpu_check.json"
  exit 0
}

# 1. a Python whose torch sees a GPU
PY=""
WHY=()
for candidate in "${FTC_GPU_PYTHON:-}" python3 python /usr/bin/python3 /usr/local/bin/python3 \
                 /opt/conda/bin/python; do
  [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 || continue
  verdict="$("$candidate" - <<'EOF' 2>&1
import sys
try:
    import torch
except Exception as exc:
    print(f"no torch ({exc.__class__.__name__})"); sys.exit(1)
if not torch.cuda.is_available():
    kind = "CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}, no device visible"
    print(f"torch {torch.__version__}: {kind}"); sys.exit(1)
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
EOF
)"
  if [ $? -eq 0 ]; then PY="$(command -v "$candidate")"; say "python: $PY ($verdict)"; break; fi
  WHY+=("$candidate: ${verdict##*$'\n'}")
done
[ -n "$PY" ] || skip "no Python with a CUDA torch here (${WHY[*]:-no python found})"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null \
  | sed 's/^/[gpu_check] nvidia-smi: /' | tee -a "$OUT/gpu_check.txt"

# 2. the pinned libraries, on top of that torch
has_pins() {
  "$1" - "${PINS[@]}" <<'EOF' >/dev/null 2>&1
import sys
from importlib import metadata
for pin in sys.argv[1:]:
    name, _, version = pin.partition("==")
    if version and metadata.version(name) != version:
        sys.exit(1)
EOF
}
if ! has_pins "$PY"; then
  if [ ! -x "$VENV/bin/python" ] || ! has_pins "$VENV/bin/python"; then
    say "installing the pinned libraries into $VENV (torch stays as found)"
    "$PY" -m venv --system-site-packages "$VENV" >>"$OUT/logs/pip.log" 2>&1 \
      || skip "cannot create a virtual environment with $PY (see logs/pip.log)"
    "$PY" -c 'import torch; print(f"torch=={torch.__version__}")' > "$VENV/constraints.txt"
    timeout 200 "$VENV/bin/python" -m pip install --disable-pip-version-check --quiet \
      -c "$VENV/constraints.txt" "${PINS[@]}" >>"$OUT/logs/pip.log" 2>&1 \
      || skip "pip could not install the pinned libraries: $(tail -n 3 "$OUT/logs/pip.log" | tr '\n' ' ')"
  fi
  PY="$VENV/bin/python"
fi
LEFT=$((450 - SECONDS))  # the whole check stays under 8 minutes
[ "$LEFT" -gt 60 ] || skip "setting up took ${SECONDS} s; no time left for the cases"
say "libraries: $("$PY" -c 'from importlib import metadata as m; print(", ".join(f"{n} {m.version(n)}" for n in ("transformers","trl","peft","accelerate","deepspeed","bitsandbytes")))' 2>&1)"

# 3. the cases (the harness writes gpu_check.json as it goes)
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}" TOKENIZERS_PARALLELISM=false
timeout "$LEFT" "$PY" "$REPO/benchmarks/gpu_check.py" "$OUT" 2>&1 | tee -a "$OUT/gpu_check.txt"
status=${PIPESTATUS[0]}
[ "$status" -eq 124 ] && say "stopped after $LEFT s; the cases that finished are in gpu_check.json"
say "done in ${SECONDS} s (exit $status)"
exit "$status"
