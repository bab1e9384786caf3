#!/usr/bin/env bash
# One prepared check for a machine with an NVIDIA GPU (under 9 minutes): qwen2.5-0.5b (random init, real
# dimensions) in bf16, SFT, DPO, GRPO and PPO 20 steps each, through `rlhf train` and through the plain TRL script
# `rlhf export-script` writes; then QLoRA and vLLM where importable, else "skipped". Prints one table: seconds,
# tokens/s, model FLOPs utilisation, peak GPU memory, the memory estimate and its error. Printed, not asserted.
#
#   benchmarks/gpu_check.sh --prep [PYTHON_VERSION]   # here, with network: wheels of trl, datasets and what they
#                                                     # need beyond torch/transformers/peft/accelerate, into
#                                                     # benchmarks/wheels (git-ignored, ~57 MB; carry it)
#   benchmarks/gpu_check.sh                           # on the GPU machine: installs those wheels offline if trl or
#                                                     # datasets is missing, then runs the check
#   GPU_CHECK_DRY=1 benchmarks/gpu_check.sh           # on a CPU: the same steps on the starter, 2 steps each
#
# Results go to $GPU_CHECK_OUT (default: $OUT/gpu_check when the device tool's $OUT is set, else /tmp/gpu_check):
# results.jsonl (one line a run) and table.txt.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
WHEELS="$HERE/wheels"
PY="${PYTHON:-python}"
# Wheels the check needs beyond torch, transformers, peft and accelerate (numpy, pyyaml, filelock, fsspec,
# psutil, jinja2, huggingface_hub and safetensors come with those). pyarrow is most of the size. pandas (trl and
# datasets need it) is assumed present, as in most CUDA images: GPU_CHECK_EXTRA_WHEELS=pandas adds it (~12 MB more,
# past the device tool's 64 MiB carry).
WHEEL_PACKAGES=(trl==1.16.0 datasets==5.2.0 pyarrow==26.0.1 dill multiprocess xxhash cloudpickle
                ${GPU_CHECK_EXTRA_WHEELS:-})

if [[ "${1:-}" == "--prep" ]]; then
  version="${2:-$($PY -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')}"
  mkdir -p "$WHEELS"
  "$PY" -m pip download --no-deps --only-binary=:all: --python-version "$version" \
    --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    -d "$WHEELS" "${WHEEL_PACKAGES[@]}" || exit 1
  du -sh "$WHEELS"
  exit 0
fi

DRY="${GPU_CHECK_DRY:-0}"
STARTED=$(date +%s)
BUDGET_S="${GPU_CHECK_BUDGET_S:-510}"   # optional runs (QLoRA, vLLM) are skipped past this: the check ends < 9 min
RESULTS="${GPU_CHECK_OUT:-${OUT:+$OUT/gpu_check}}"
RESULTS="${RESULTS:-/tmp/gpu_check}"
mkdir -p "$RESULTS"
: > "$RESULTS/results.jsonl"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false GRADIO_ANALYTICS_ENABLED=False PYTHONUNBUFFERED=1
export RLHF_CACHE_DIR="${RLHF_CACHE_DIR:-$WORK/cache}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT" || exit 1

say() { echo "[gpu_check $(( $(date +%s) - STARTED ))s] $*"; }
elapsed() { echo $(( $(date +%s) - STARTED )); }
importable() { "$PY" -c "import $1" >/dev/null 2>&1; }

# -- dependencies ------------------------------------------------------------------------------------------------
if ! importable trl || ! importable datasets; then
  if [[ -d "$WHEELS" ]]; then
    say "installing trl and datasets from $WHEELS (offline)"
    "$PY" -m pip install -q --no-index --find-links "$WHEELS" trl datasets || { say "wheel install failed"; exit 1; }
  else
    say "trl or datasets is missing and $WHEELS is absent: run benchmarks/gpu_check.sh --prep first"; exit 1
  fi
fi
"$PY" - <<'EOF'
import importlib.util, torch, transformers, trl, peft, accelerate, datasets
print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-")
print("transformers", transformers.__version__, "trl", trl.__version__, "peft", peft.__version__,
      "accelerate", accelerate.__version__, "datasets", datasets.__version__)
print("optional:", {m: importlib.util.find_spec(m) is not None for m in ("bitsandbytes", "vllm", "flash_attn",
                                                                           "liger_kernel")})
EOF

# -- the model -----------------------------------------------------------------------------------------------------
if [[ "$DRY" == "1" ]]; then
  MODEL=starter; STEPS=2; PRECISION=(); LENGTHS=(--max-length 256 --max-completion-length 16)
  say "dry run: the starter on CPU, $STEPS steps each"
else
  STEPS="${GPU_CHECK_STEPS:-20}"; PRECISION=(--bf16 true); LENGTHS=(--max-length 512 --max-completion-length 64)
  MODEL="$WORK/qwen2.5-0.5b"
  say "building qwen2.5-0.5b (random init, the starter's tokenizer)"
  "$PY" -m rlhf build-model --preset qwen2.5-0.5b --output "$MODEL" || { say "build-model failed"; exit 1; }
fi
REWARD="$WORK/reward.py"
cat > "$REWARD" <<'EOF'
def reward_func(completions, **kwargs):
    return [c.lower().split().count("the") / max(1, len(c.split())) for c in completions]
EOF

# -- one run through rlhf, then its exported plain TRL script -------------------------------------------------------
# run NAME [flags…]: `rlhf estimate` and `rlhf train` with the flags; records one results.jsonl line.
run() {
  local name="$1"; shift
  local dir="$WORK/runs/$name"
  local flags=(--model "$MODEL" --dataset sample --max-steps "$STEPS" --logging-steps 1 --train-size 1
               --per-device-train-batch-size 8 "${LENGTHS[@]}" "${PRECISION[@]}" "$@")
  "$PY" -m rlhf estimate "${flags[@]}" > "$WORK/$name.estimate.json" 2> "$WORK/$name.estimate.log" \
    || say "$name: estimate failed: $(tail -1 "$WORK/$name.estimate.log")"
  local t0=$(date +%s%N)
  "$PY" -m rlhf train --output-dir "$dir" "${flags[@]}" > "$WORK/$name.log" 2>&1
  local code=$?
  local t1=$(date +%s%N)
  [[ $code -eq 0 ]] || say "$name: rlhf train exited $code: $(grep -m1 -i 'error' "$WORK/$name.log")"
  "$PY" benchmarks/gpu_check_run.py record --name "$name" --path rlhf --run "$dir" --code "$code" \
    --seconds "$(( (t1 - t0) / 1000000 ))e-3" --estimate "$WORK/$name.estimate.json" --model "$MODEL" \
    >> "$RESULTS/results.jsonl"
}

plain() {
  local name="$1"
  local dir="$WORK/runs/$name"
  [[ -f "$dir/config.yaml" ]] || { say "$name: no run config, plain TRL skipped"; return; }
  "$PY" -m rlhf export-script --config "$dir/config.yaml" --output "$WORK/$name.py" > /dev/null 2>&1 \
    || { say "$name: export-script failed"; return; }
  local t0=$(date +%s%N)
  "$PY" benchmarks/gpu_check_run.py script "$WORK/$name.py" "$WORK/$name.script.json" > "$WORK/$name.script.log" 2>&1
  local code=$?
  local t1=$(date +%s%N)
  [[ $code -eq 0 ]] || say "$name: plain TRL script exited $code: $(tail -1 "$WORK/$name.script.log")"
  "$PY" benchmarks/gpu_check_run.py record --name "$name" --path trl --run "$WORK/$name-export" --code "$code" \
    --seconds "$(( (t1 - t0) / 1000000 ))e-3" --script-json "$WORK/$name.script.json" --model "$MODEL" \
    >> "$RESULTS/results.jsonl"
}

skipped() { echo "{\"name\": \"$1\", \"path\": \"$2\", \"skipped\": \"$3\"}" >> "$RESULTS/results.jsonl"; say "$1: skipped ($3)"; }

for task in sft dpo grpo ppo; do
  case $task in
    sft|dpo) run "$task" --task "$task" ;;
    grpo|ppo) run "$task" --task rl --algorithm "$task" --reward-func "$REWARD" ;;
  esac
  say "$task: rlhf train done"
  plain "$task"
  say "$task: plain TRL done"
done

if [[ "$DRY" == "1" ]] || ! "$PY" -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  skipped qlora rlhf "no CUDA"; skipped vllm rlhf "no CUDA"
else
  if ! importable bitsandbytes; then skipped qlora rlhf "bitsandbytes not installed"
  elif (( $(elapsed) > BUDGET_S )); then skipped qlora rlhf "time budget spent"
  else run qlora --task sft --use-peft --load-in-4bit; fi
  if ! importable vllm; then skipped vllm rlhf "vllm not installed"
  elif (( $(elapsed) > BUDGET_S - 60 )); then skipped vllm rlhf "time budget spent"
  else run vllm --task rl --algorithm grpo --reward-func "$REWARD" --use-vllm; fi
fi

"$PY" benchmarks/gpu_check_run.py report "$RESULTS/results.jsonl" | tee "$RESULTS/table.txt"
say "done in $(elapsed) s; work files in $WORK"
