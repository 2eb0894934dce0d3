#!/usr/bin/env bash
# One-command GPU check, for a Linux machine with a GPU (≤ 8 minutes):
#   1. shows what Vulkan sees (vulkaninfo, the ICD files) and the adapter Dawn picks — and stops, saying
#      what to install, if that is a CPU driver;
#   2. runs the GPU tests (kernels, runtime, autograd, the whole-network PyTorch golden step and finite
#      differences), once as the adapter comes and once with every optional feature masked;
#   3. runs the benches at the paper's size (npm run bench -- --gpu: the 1024³ GEMM ceiling, every f-rMC5
#      convolution at 1×1×24×256×256 with the TensorFlow.js peer, both GEMM kernel families side by side,
#      and the whole networks at width 32 on 1×1×24×256×256) and writes bench/results/<adapter>.json;
#   4. prints the numbers the README quotes.
#
#   bash bench/gpu-check.sh               the check (needs a GPU that Dawn can see)
#   bash bench/gpu-check.sh --cpu-smoke   the same steps, shortened, on whatever adapter there is (a CPU
#                                         driver: lavapipe or SwiftShader), results in a temporary folder —
#                                         proves the script works end to end on a machine without a GPU
#
# What Dawn needs to see a GPU on Linux: the Vulkan loader (libvulkan1) and the GPU vendor's Vulkan driver,
# which installs an ICD file in /usr/share/vulkan/icd.d/ or /etc/vulkan/icd.d/ — NVIDIA: nvidia_icd.json
# from the proprietary driver (the nvidia-driver / nvidia-utils packages; in a container, the NVIDIA
# container toolkit with NVIDIA_DRIVER_CAPABILITIES including graphics); AMD and Intel: radeon_icd.*.json
# and intel_icd.*.json from Mesa (mesa-vulkan-drivers). `vulkaninfo --summary` (vulkan-tools) should list
# the GPU; VOXELGRAD_VK_ICD=/path/to/icd.json makes voxelgrad use exactly that driver.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=gpu
case "${1:-}" in
  '') ;;
  --cpu-smoke) MODE=smoke ;;
  -h | --help) sed -n '2,25p' "$0"; exit 0 ;;
  *) echo "gpu-check: unknown option '$1' (use --cpu-smoke or nothing)" >&2; exit 2 ;;
esac

BUDGET=480 # seconds: the whole check
START=$SECONDS
left() { echo $((BUDGET - (SECONDS - START))); }
step() { echo; echo "== [$((SECONDS - START)) s] $*"; }
# Runs a step under what is left of the budget (at most $1 seconds); a step that overruns fails the check.
timed() {
  local cap=$1
  shift
  local t
  t=$(left)
  ((t > cap)) && t=$cap
  if ((t < 10)); then
    echo "gpu-check: the ${BUDGET} s budget is spent before: $*" >&2
    exit 1
  fi
  timeout --foreground "$t" "$@" || {
    local rc=$?
    ((rc == 124)) && echo "gpu-check: '$*' did not finish within ${t} s" >&2
    exit "$rc"
  }
}

step 'prerequisites'
node -e 'const [a] = process.versions.node.split(".").map(Number); if (a < 20) { console.error(`node ${process.version}: voxelgrad needs Node.js >= 20`); process.exit(1); }'
[ -d node_modules/webgpu ] || timed 180 npm ci --no-audit --no-fund
timed 120 npm run build --silent

step 'Vulkan drivers'
if command -v vulkaninfo >/dev/null 2>&1; then
  vulkaninfo --summary 2>/dev/null | sed -n '/^Devices:/,$p' | grep -E 'GPU[0-9]|deviceName|deviceType|driverName|apiVersion' || echo '(vulkaninfo listed no devices)'
else
  echo 'vulkaninfo not installed (apt-get install vulkan-tools shows what the Vulkan loader sees)'
fi
ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | sed 's/^/  /' || true
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/  nvidia-smi: /'; fi

step 'adapter'
timed 60 node bin/voxelgrad.js info
FAMILY=$(timed 60 node --input-type=module -e "
  import { acquireNodeGpu } from './dist/src/gpu/acquire.node.js';
  import { adapterFamily } from './dist/src/kernels/tuning.js';
  const gpu = await acquireNodeGpu();
  console.log(adapterFamily(gpu));
  gpu.destroy();
  process.exit(0);" 2>/dev/null | tail -1)
if [ "$MODE" = gpu ] && [ "$FAMILY" != gpu ]; then
  cat >&2 <<EOF
gpu-check: Dawn picked a CPU driver ($FAMILY), not a GPU. On Linux it needs the GPU vendor's Vulkan driver:
  NVIDIA: the proprietary driver (its nvidia_icd.json in /usr/share/vulkan/icd.d/ or /etc/vulkan/icd.d/;
          in a container the NVIDIA container toolkit with NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics)
  AMD / Intel: mesa-vulkan-drivers (radeon_icd / intel_icd)
  plus the loader libvulkan1. 'vulkaninfo --summary' (vulkan-tools) should list the GPU; VOXELGRAD_VK_ICD=/path/icd.json
  selects one driver. To try this script without a GPU: bash bench/gpu-check.sh --cpu-smoke
EOF
  exit 3
fi

GPU_TESTS=(test/kernels test/gpu test/graph test/model/train-step.test.ts)
if [ "$MODE" = smoke ]; then
  # A few files of each kind: enough to show the step runs, in a CPU driver's minute.
  GPU_TESTS=(test/kernels/matmul.test.ts test/gpu/device.test.ts test/gpu/compile.test.ts)
fi
step "GPU tests (${GPU_TESTS[*]})"
timed 150 npx vitest run "${GPU_TESTS[@]}"
step 'GPU tests again, every optional feature masked (the paths of an adapter without subgroups, f16, timestamps)'
timed 150 env VOXELGRAD_DISABLE_FEATURES=subgroups,shader-f16,timestamp-query npx vitest run "${GPU_TESTS[@]}"

if [ "$MODE" = gpu ]; then
  OUT=bench/results
  step 'benches at the paper size: npm run bench -- --gpu --only matmul,conv,network'
  timed "$(left)" node dist/bench/run.js --gpu --only matmul,conv,network --out "$OUT"
else
  OUT=$(mktemp -d -t voxelgrad-gpu-check-XXXXXX)
  step "benches, shortened (--quick, two conv layers, no network bench): results in $OUT"
  timed 240 node dist/bench/run.js --quick --only matmul,conv --layers 'stage4 1×3×3 128,stage5 3×3×3 256' --out "$OUT"
  timed 120 node dist/bench/run.js --quick --only conv --paths --layers 'stage4 1×3×3 128' --out "$OUT"
fi

step 'summary'
node --input-type=module -e "
  import { readdirSync, readFileSync, statSync } from 'node:fs';
  const dir = process.argv[1];
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => dir + '/' + f).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const r = JSON.parse(readFileSync(files[0], 'utf8'));
  console.log('results: ' + files[0] + ' — ' + r.adapter.description);
  const rec = (bench, pred) => (r.benches[bench]?.records ?? []).filter(pred);
  for (const x of rec('matmul', (x) => x.name.startsWith('matmul 1024'))) console.log('GEMM ceiling (1024³): ' + x.gflops.toFixed(1) + ' GFLOP/s');
  for (const x of rec('conv', (x) => x.name.startsWith('f-rMC5 convolutions'))) console.log('all f-rMC5 convolutions fwd+bwd: ' + x.ms.toFixed(0) + ' ms, ' + x.gflops.toFixed(1) + ' GFLOP/s = ' + (100 * x.ratio.gemm).toFixed(0) + ' % of the GEMM ceiling (goal on a GPU: >= 50 %)');
  for (const x of rec('conv', (x) => x.name.endsWith('fwd+bwd') && x.ratio?.tfjs !== undefined)) console.log('  ' + x.name + ' [' + x.algorithm + ']: ' + x.ms.toFixed(1) + ' ms, ' + (100 * x.ratio.gemm).toFixed(0) + ' % of ceiling, ' + x.ratio.tfjs.toFixed(1) + '× tfjs');
  for (const x of rec('conv-paths', (x) => x.ratio?.subgroup !== undefined)) console.log('tiled kernels vs subgroup kernels, f-rMC5 convolutions fwd+bwd: ' + (100 * x.ratio.subgroup).toFixed(0) + ' % of the speed (' + x.note + ')');
  for (const x of rec('conv-paths', (x) => x.name.endsWith('fwd+bwd tiled') || x.name.endsWith('fwd+bwd subgroup'))) console.log('  ' + x.name + ': ' + x.ms.toFixed(1) + ' ms');
  for (const x of rec('network', (x) => x.name.includes('paper size'))) console.log(x.name + ': ' + x.ms.toFixed(0) + ' ms, convolution GFLOP/s over the whole step ' + x.gflops.toFixed(1) + ' = ' + (100 * x.ratio.gemm).toFixed(0) + ' % of the ceiling' + (x.ratio?.tfjs ? ', ' + x.ratio.tfjs.toFixed(1) + '× tfjs' : ''));
" "$OUT"
echo
echo "gpu-check: done in $((SECONDS - START)) s (budget ${BUDGET} s)"
