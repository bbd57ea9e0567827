#!/bin/bash
# One device call of the GPU campaign (issue 7), run by the device tool in the repository root.
#
#   device run, carry [".whl"], timeout_s 600:
#     bash benchmarks/gpu/device_run.sh 540 [campaign run options: --part validity, --task T, ...]
#
# Needs ./.whl from benchmarks/gpu/prepare.sh (wheels + reference tokenizer). Installs the wheels, records the machine (nvidia-smi,
# energy-badge doctor, package versions), runs `campaign.py run --budget BUDGET`, and packs
# benchmarks/results/ into $OUT/results.tar.gz (one file: the device returns at most 8). Unpack it
# here with `tar xzf <files_at>/results.tar.gz -C benchmarks`, then the next call skips what is done.
set -uo pipefail
budget=${1:?usage: device_run.sh BUDGET_SECONDS [campaign options]}
shift
out=${OUT:-/tmp/energy-badge-out}
mkdir -p "$out"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  || { echo "device_run: installing the carried wheels failed" >&2; exit 9; }
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 ENERGY_BADGE_REFERENCE_TOKENIZER=$PWD/.whl/reference-tokenizer
{
  date -u +%FT%TZ
  nvidia-smi
  nvidia-smi -q -d POWER,CLOCK,TEMPERATURE,PERFORMANCE
  python3 -m energy_badge doctor --json
  python3 -m pip list 2>/dev/null | grep -iE '^(torch|transformers|huggingface|zeus|nvidia-ml|tokenizers|safetensors|numpy|pandas|scikit-learn|python-dateutil) '
} > "$out/environment.txt" 2>&1
gpu=$(python3 -c 'import sys; sys.path.insert(0, "benchmarks/gpu"); import campaign; print(campaign.gpu_folder_name())') \
  || { echo "device_run: no GPU class found (see environment.txt)" >&2; cat "$out/environment.txt" >&2; exit 3; }
mkdir -p "benchmarks/results/$gpu"
cp "$out/environment.txt" "benchmarks/results/$gpu/environment-$(date -u +%Y%m%dT%H%M%SZ).txt"
python3 benchmarks/gpu/campaign.py run --gpu "$gpu" --budget "$budget" "$@" 2>&1 | tee "$out/campaign.txt"
rc=${PIPESTATUS[0]}
tar czf "$out/results.tar.gz" -C benchmarks results
exit "$rc"
