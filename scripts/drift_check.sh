#!/usr/bin/env bash
# Drift check: do the notebooks still run with the NEWEST Hugging Face libraries?
#
#   bash scripts/drift_check.sh            # report in _build/drift/report.md
#   bash scripts/drift_check.sh 09_        # only the notebooks whose path contains "09_"
#
# Run it weekly (a cron job or a scheduled CI workflow; it is not part of the tests' pass/fail). It builds
# a throw-away environment in _build/drift/venv from requirements.txt, upgrades transformers, datasets,
# tokenizers, accelerate and sentence-transformers to their newest releases (torch stays at the pinned
# CPU build), then executes every chapter notebook and every exercise notebook (solutions filled in) in
# FAST mode and writes which ones break, with the first line of each error. A notebook that breaks here
# but passes in the tests is an API change to adapt to before the next pin upgrade.
set -uo pipefail
cd "$(dirname "$0")/.."
out=_build/drift
rm -rf "$out" && mkdir -p "$out"
python3 -m venv "$out/venv"
pip=("$out/venv/bin/python" -m pip install -q)
echo "torch==2.13.0" > "$out/constraints.txt"  # never a CUDA build, never a torch upgrade
"${pip[@]}" --upgrade pip
"${pip[@]}" -r requirements.txt
"${pip[@]}" --no-deps openai-whisper==20250625
"${pip[@]}" --upgrade -c "$out/constraints.txt" transformers datasets tokenizers accelerate sentence-transformers
"${pip[@]}" --no-deps .  # a copy of course_utils, not an editable link
rm -rf build  # setuptools leaves its build folder in the repository
export COURSE_FAST=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 OMP_NUM_THREADS=1
"$out/venv/bin/python" scripts/exercise_tools.py "$out/filled_exercises" > /dev/null
"$out/venv/bin/python" - "$out" "${1:-}" <<'PY'
import subprocess, sys, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

out = Path(sys.argv[1])
versions = subprocess.run([sys.executable, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True).stdout
wanted = ("transformers", "datasets", "tokenizers", "accelerate", "sentence-transformers", "torch")
lines = ["# Drift check", "", "Library versions: " + ", ".join(
    l for l in versions.splitlines() if l.split("==")[0].lower() in wanted), "", "| notebook | result |", "|---|---|"]
notebooks = sorted(Path("chapters").rglob("*.ipynb")) + sorted((out / "filled_exercises").glob("*.ipynb"))
notebooks = [p for p in notebooks if sys.argv[2] in str(p)]
broken = 0
for path in notebooks:
    if ".ipynb_checkpoints" in path.parts:
        continue
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        result = f"ok ({time.perf_counter() - start:.0f} s)"
    except Exception as exc:  # any failure is the finding
        broken += 1
        first = next((l for l in str(exc).splitlines() if "Error" in l), str(exc).splitlines()[0] if str(exc) else "")
        result = f"BROKEN: {first.strip()[:200]}"
    lines.append(f"| {path} | {result} |")
    print(lines[-1], flush=True)
lines += ["", f"{broken} of {len(notebooks)} notebooks broke with the newest libraries."]
(out / "report.md").write_text("\n".join(lines) + "\n")
print(lines[-1])
PY
echo "report: $out/report.md"
