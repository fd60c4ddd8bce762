#!/usr/bin/env bash
# `make gpu-check`: every GPU test and the GPU benchmarks, in one go of under 10 minutes, on a
# machine with a CUDA GPU and its own torch. No Django, no virtualenv, no requirements install:
# mlcore needs only torch (never reinstalled here), numpy, Pillow, safetensors and pydantic, and
# the few of those that are missing are installed at requirements.txt's pins.
#
#   site/gpu-check.sh                   # results under $OUT (else ./gpu-check-out)
#   GPU_CHECK_DRY_RUN=1 site/gpu-check.sh   # print what would run, run nothing
#
# Settings (environment): PYTHON (default python3: the interpreter that holds the GPU torch);
# OUT (the results folder); GPU_CHECK_PIP_ARGS (extra pip options for a machine without a
# registry, e.g. "--no-index --find-links .whl"); GPU_CHECK_TEST_SECONDS (default 120) and
# GPU_CHECK_BENCH_SECONDS (default 100 a family, stylegan2 150): each step's time limit, so the
# whole check ends inside 10 minutes even when one step hangs.
# Without CUDA it says so and exits 0: there is nothing to check. Otherwise its status is 1 when
# any step failed or ran out of time; summary.txt lists each step's outcome.
set -u
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
OUT=${OUT:-gpu-check-out}
TEST_SECONDS=${GPU_CHECK_TEST_SECONDS:-120}
BENCH_SECONDS=${GPU_CHECK_BENCH_SECONDS:-100}
STYLEGAN2_SECONDS=${GPU_CHECK_STYLEGAN2_SECONDS:-150}
DRY_RUN=${GPU_CHECK_DRY_RUN:-}

# The GPU tests: the files that carry the gpu marker (collecting only those keeps Django and
# the site's test dependencies out), then every bench on CUDA. StyleGAN2 at 256 px with NVlabs'
# auto networks, beside their published 12.53 s/kimg; the other families at their defaults.
GPU_TEST_FILES=$(grep -l "pytest.mark.gpu" tests/mlcore/test_*.py | tr '\n' ' ')
STEPS=(
  "gpu-tests|$TEST_SECONDS|$PYTHON -m pytest -p no:cacheprovider -m gpu -q -rs --junitxml=$OUT/pytest-gpu.xml $GPU_TEST_FILES"
  "bench-stylegan2|$STYLEGAN2_SECONDS|$PYTHON -m mlcore.bench stylegan2 --device cuda --networks auto --size 256 --json $OUT/bench-stylegan2.json"
  "bench-fast-style|$BENCH_SECONDS|$PYTHON -m mlcore.bench fast-style --device cuda --json $OUT/bench-fast-style.json"
  "bench-pix2pix|$BENCH_SECONDS|$PYTHON -m mlcore.bench pix2pix --device cuda --json $OUT/bench-pix2pix.json"
  "bench-ugatit|$BENCH_SECONDS|$PYTHON -m mlcore.bench ugatit --device cuda --json $OUT/bench-ugatit.json"
)

if [ -n "$DRY_RUN" ]; then
  echo "gpu-check (dry run): results would go to $OUT; each step with its time limit:"
  for step in "${STEPS[@]}"; do
    IFS='|' read -r name seconds command <<<"$step"
    echo "  $name (${seconds} s): $command"
  done
  exit 0
fi

if ! "$PYTHON" -c "import torch" 2>/dev/null; then
  echo "gpu-check: $PYTHON cannot import torch; set PYTHON to the interpreter that holds the GPU's torch" >&2
  exit 1
fi
if ! "$PYTHON" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu-check: no CUDA device here (torch $("$PYTHON" -c 'import torch; print(torch.__version__)')): nothing to do"
  exit 0
fi

mkdir -p "$OUT"
LOG=$OUT/gpu-check.log
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }

# The runtime packages mlcore imports, by module and by its requirements.txt name; only the
# missing ones are installed, at their pins. torch is the machine's own and is never touched.
missing=()
for pair in numpy:numpy PIL:pillow safetensors:safetensors pydantic:pydantic; do
  module=${pair%%:*} dist=${pair#*:}
  if ! "$PYTHON" -c "import $module" 2>/dev/null; then
    pin=$(grep -i "^$dist==" requirements.txt | sed 's/[[:space:]]*#.*//')
    missing+=("${pin:-$dist}")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  say "gpu-check: installing what mlcore needs and this Python lacks: ${missing[*]}"
  # shellcheck disable=SC2086  # GPU_CHECK_PIP_ARGS is a list of options
  "$PYTHON" -m pip install -q ${GPU_CHECK_PIP_ARGS:-} "${missing[@]}" 2>&1 | tee -a "$LOG"
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    say "gpu-check: could not install ${missing[*]}; without a registry, carry their wheels and set GPU_CHECK_PIP_ARGS"
    exit 1
  fi
fi

say "gpu-check: $("$PYTHON" -c 'import torch; print(torch.__version__, torch.cuda.get_device_name(0))'), results in $OUT"
summary=()
failed=0
for step in "${STEPS[@]}"; do
  IFS='|' read -r name seconds command <<<"$step"
  say ""
  say "== $name (at most ${seconds} s): $command"
  started=$SECONDS
  # shellcheck disable=SC2086  # the command is a word list built above
  PYTHONUNBUFFERED=1 timeout --kill-after=10 "$seconds" $command 2>&1 | tee -a "$LOG"
  rc=${PIPESTATUS[0]}
  took=$((SECONDS - started))
  case $rc in
    0) outcome="passed" ;;
    124 | 137) outcome="TIMED OUT after ${seconds} s"; failed=1 ;;
    *) outcome="FAILED (exit $rc)"; failed=1 ;;
  esac
  summary+=("$name: $outcome, ${took} s")
done

say ""
say "== summary"
printf '%s\n' "${summary[@]}" | tee "$OUT/summary.txt" | tee -a "$LOG"
exit $failed
