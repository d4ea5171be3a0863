#!/usr/bin/python3
"""Benchmark ctresnet against PyTorch and ONNX Runtime: same weights, same input, side by side.

    /usr/bin/python3 bench/run_bench.py             # resnet18/50/152 x batch 1, 8 x threads 1, 2
    /usr/bin/python3 bench/run_bench.py --quick     # smoke test: resnet18, batch 1, 1 thread, 5 runs
    /usr/bin/python3 bench/run_bench.py --chart build-bench/latency.svg   # and a bar chart of the latencies
    /usr/bin/python3 bench/run_bench.py --precision int8 --models resnet18,resnet50 --batches 1
    /usr/bin/python3 bench/run_bench.py --march x86-64-v3 --pytorch-isa avx2   # AVX2 builds of ctresnet and PyTorch

Steps: build bench/ctresnet_bench.cpp and bench/fma_peak.cpp (Release, -march=native) into
build-bench/; install onnxruntime-node into bench/node_modules if it is missing; export each
model's seeded random weights as .safetensors and .onnx into build-bench/models/ (once); measure
the FMA peak; then, per configuration (model, batch, threads), run the three frameworks as
worker processes and interleave them, then compare their logits. Prints the tables and writes
them to build-bench/results.md (all samples go to build-bench/results.json; with --cold,
results-cold.md and results-cold.json; with --precision int8, results-int8.md and so on; with
--pytorch-isa avx2, results-pytorch-avx2.md).

--precision int8 runs the three on quantized models made from the same weights
(export_models.py --int8): ctresnet::quantized<Net> on tools/quantize.py's model (engine
qnnpack), whose logits must equal that model's in PyTorch bit for bit; PyTorch's quantized model
on its engine onednn (per-channel weights, 7-bit activations: its fastest on x86, traced and
frozen); ONNX Runtime on the qnnpack model exported as QDQ ONNX, which it runs with its int8
kernels. The last two round differently, so their logits are shown, not checked.

Interleaving: the three workers load in parallel, warm up one after the other, then take turns
in rounds, a few timed runs each per turn, the order rotating every round; a worker's samples are
pooled and the median reported, and ctresnet's ratio to each peer is the median of the per-round
ratios. Slow drift of the machine (clock, neighbours on the host) thus hits all three alike.
Between turns the driver waits until the last worker's threads stop spinning. Each configuration
has its own processes, so each peak RSS is that of one model, one batch size and one thread count.

A shared machine: before each configuration the driver waits for other processes to go quiet,
measures the CPU share others (and the hypervisor) take while it times, and measures a disturbed
configuration again (--retries). See bench/README.md.

Exit status: 1 if any framework's logits disagree with PyTorch's or any worker failed.
"""
import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import platform
import queue
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
FRAMEWORKS = ("ctresnet", "pytorch", "ort")
# The environment that keeps PyTorch's kernels to an instruction set: oneDNN's (the convs) and
# ATen's (most other operators). "native" clears any such limit that the driver inherited.
PYTORCH_ISA_LIMITS = {"native": {}, "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}
PYTORCH_ISA_VARIABLES = ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "ATEN_CPU_CAPABILITY")
TITLES = {"ctresnet": "ctresnet", "pytorch": "PyTorch", "ort": "ORT"}
MIB = 1024 * 1024
RSS_SLACK_MIB = 16  # the budget: peak RSS <= weights + workspace + 16 MiB
CLASSES = 1000
STARTUP_TIMEOUT_S = 900  # loading, tracing and freezing a ResNet-152 while two others load too
RUN_TIMEOUT_S = 1800


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)

    def ints(text):
        return [int(x) for x in text.split(",") if x]

    def models(text):
        names = [m if m.startswith("resnet") else f"resnet{m}" for m in text.split(",") if m]
        for name in names:
            if name not in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
                raise argparse.ArgumentTypeError(f"unknown model {name!r}")
        return names

    parser.add_argument("--quick", action="store_true",
                        help="smoke test: resnet18, batch 1, 1 thread, 5 runs (other options still override)")
    parser.add_argument("--models", type=models, help="default: resnet18,resnet50,resnet152")
    parser.add_argument("--batches", type=ints, help="default: 1,8")
    parser.add_argument("--threads", type=ints, help="default: 1,2")
    parser.add_argument("--runs", type=int, help="timed runs per framework and configuration (default: 20)")
    parser.add_argument("--max-seconds", type=float, default=60.0, metavar="S",
                        help="cap on one configuration's timed work, all three frameworks together; runs are "
                             "reduced to fit (never below 5) - this is what bounds resnet152 at batch 8 "
                             "(default: 60)")
    parser.add_argument("--rounds", type=int, default=10,
                        help="turns each framework takes per configuration, its runs split evenly among them "
                             "(default: 10)")
    parser.add_argument("--warmup", type=int, default=3,
                        help="untimed runs per worker before the rounds; PyTorch's JIT optimises on its second "
                             "(default: 3)")
    parser.add_argument("--wait-quiet", type=float, default=600, metavar="S",
                        help="before each configuration, wait up to S s for other processes to use under 10 %% "
                             "of the CPUs (default: 600)")
    parser.add_argument("--retries", type=int, default=2,
                        help="measure a configuration again (up to this many times) when other processes used over "
                             "5 %% of the CPUs while it was timed (default: 2)")
    parser.add_argument("--weights-seed", type=int, default=0)
    parser.add_argument("--input-seed", type=int, default=1)
    parser.add_argument("--build-dir", type=Path, default=None,
                        help="default: build-bench, or build-bench-ARCH with --march ARCH")
    parser.add_argument("--cold", action="store_true",
                        help="cold caches: before every timed run, a program overwrites every cache of the "
                             "machine, as when an image is classified now and then between other work; each "
                             "turn is then one run")
    parser.add_argument("--precision", choices=("float32", "int8"), default="float32",
                        help="int8: quantized models in all three frameworks (see above) (default: float32)")
    parser.add_argument("--march", default="native", metavar="ARCH",
                        help="compile ctresnet and fma_peak for this CPU type, e.g. x86-64-v3 (AVX2 and FMA) to "
                             "measure the AVX2 kernels on an AVX-512 machine (default: native)")
    parser.add_argument("--pytorch-isa", choices=tuple(PYTORCH_ISA_LIMITS), default="native",
                        help="avx2: PyTorch's oneDNN and ATen kernels limited to AVX2 and FMA (ONEDNN_MAX_CPU_ISA, "
                             "ATEN_CPU_CAPABILITY), to compare an AVX2 build of ctresnet (--march x86-64-v3) with "
                             "PyTorch on the same instructions; ONNX Runtime has no such switch. native clears any "
                             "such limit inherited from the environment (default: native)")
    parser.add_argument("--python", default="/usr/bin/python3", help="a Python with torch and torchvision")
    parser.add_argument("--node", default=shutil.which("node") or "/usr/bin/node")
    parser.add_argument("--skip-build", action="store_true", help="use the programs already in --build-dir")
    parser.add_argument("--chart", type=Path, metavar="PATH.svg",
                        help="also draw the latencies as a bar chart into PATH (.svg, .png or .pdf), with Debian's "
                             "python3-matplotlib; bench/plot_bench.py draws one from a saved results.json")
    args = parser.parse_args()
    # Checked now rather than after the measurements; imported only to draw.
    if args.chart and importlib.util.find_spec("matplotlib") is None:
        parser.error("--chart needs matplotlib: apt-get install python3-matplotlib, and run /usr/bin/python3")
    quick = args.quick
    args.models = args.models or (["resnet18"] if quick else ["resnet18", "resnet50", "resnet152"])
    args.batches = args.batches or ([1] if quick else [1, 8])
    args.threads = args.threads or ([1] if quick else [1, 2])
    args.runs = args.runs or (5 if quick else 20)
    if min(args.batches + args.threads + [args.runs, args.rounds]) < 1:
        parser.error("batches, threads, runs and rounds must be at least 1")
    if not all(c.isalnum() or c in "-_." for c in args.march):
        parser.error(f"--march takes a CPU type such as native or x86-64-v3, not '{args.march}'")
    if args.pytorch_isa != "native" and platform.machine() not in ("x86_64", "AMD64"):
        parser.error(f"--pytorch-isa {args.pytorch_isa} limits x86 kernels; this machine is {platform.machine()}")
    if args.build_dir is None:
        args.build_dir = ROOT / ("build-bench" if args.march == "native" else f"build-bench-{args.march}")
    return args


def log(message):
    print(message, flush=True)


def run_checked(argv, **kwargs):
    log("$ " + " ".join(str(a) for a in argv))
    subprocess.run([str(a) for a in argv], check=True, **kwargs)


# ---- other processes' load ----------------------------------------------------------------------
#
# The machine may be shared (a compiler running next to the benchmark halves a 2-core box). Each
# measurement therefore waits for the machine to be quiet first, and measures how much CPU others
# took while it was timing: all busy CPU time (/proc/stat) minus its workers' and its own, plus the
# time the hypervisor stole.

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
DISTURBED = 0.05  # a configuration is re-measured when others took more than this share of the CPUs
QUIET_WAIT = {"seconds": 0.0}  # time spent waiting for others, for the report


def busy_cpu_seconds():
    """CPU time this machine has spent busy since boot (user, nice, system, irq, softirq), and the
    time a hypervisor took its CPUs away from it while they had work (steal)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values
    return (user + nice + system + irq + softirq) / CLOCK_TICK, steal / CLOCK_TICK


def process_cpu_seconds(pid):
    """User + system time of a process, all its threads (ended ones too); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


class LoadMeter:
    """Share of all CPUs taken since start() by processes other than `pids`, this one and its ended
    children, or by the hypervisor (steal)."""

    def __init__(self, pids=()):
        self.pids = list(pids)

    def _sample(self):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # children that have ended
        ours = (sum(process_cpu_seconds(pid) for pid in self.pids) + time.process_time() + children.ru_utime +
                children.ru_stime)
        return time.monotonic(), busy_cpu_seconds(), ours

    def start(self):
        self._begin = self._sample()
        return self

    def other_share(self):
        (t0, (busy0, steal0), ours0), (t1, (busy1, steal1), ours1) = self._begin, self._sample()
        others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) + (steal1 - steal0)
        return others / max(1e-9, (t1 - t0) * (os.cpu_count() or 1))


def wait_for_quiet(limit_s, threshold=0.10, window_s=2.0):
    """Waits (up to limit_s) until other processes use under `threshold` of the CPUs for window_s.

    A build next door comes in bursts of compiler processes, so one quiet second predicts little.
    """
    begin = time.monotonic()
    told = False
    while True:
        meter = LoadMeter().start()
        time.sleep(window_s)
        share = meter.other_share()
        waited = time.monotonic() - begin
        if share < threshold or waited >= limit_s:
            QUIET_WAIT["seconds"] += waited - window_s  # beyond the one window every check takes
            if share >= threshold:
                log(f"  WARNING: other processes still use {share:.0%} of the CPUs; measuring anyway")
            return share
        if not told:
            log(f"  waiting for the machine to go quiet (other processes use {share:.0%} of the CPUs)")
            told = True


# ---- set-up -----------------------------------------------------------------------------------


def build(args):
    """Configures and builds the two C++ programs: Release (-O3 -DNDEBUG) with -march=ARCH."""
    if not args.skip_build:
        arch = ["-DCTRESNET_NATIVE=ON", "-DCMAKE_CXX_FLAGS="] if args.march == "native" else \
               ["-DCTRESNET_NATIVE=OFF", f"-DCMAKE_CXX_FLAGS=-march={args.march}"]
        run_checked(["cmake", "-S", ROOT, "-B", args.build_dir, "-DCTRESNET_BUILD_BENCH=ON",
                     "-DCMAKE_BUILD_TYPE=Release", *arch, "-DCTRESNET_BUILD_TESTS=OFF",
                     "-DCTRESNET_BUILD_EXAMPLES=OFF"], stdout=subprocess.DEVNULL)
        run_checked(["cmake", "--build", args.build_dir, "-j", str(os.cpu_count() or 2), "--target", "ctresnet_bench",
                     "fma_peak", "evict_caches"])
    return (args.build_dir / "bench" / "ctresnet_bench", args.build_dir / "bench" / "fma_peak",
            args.build_dir / "bench" / "evict_caches")


def ensure_onnxruntime(args):
    """bench/node_modules/onnxruntime-node, at the version package-lock.json pins.

    ONNXRUNTIME_NODE_INSTALL=skip: the package's install script would otherwise download CUDA
    libraries; the CPU library ships inside the package itself.
    """
    if (BENCH / "node_modules" / "onnxruntime-node" / "package.json").exists():
        return
    env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip")
    command = ["npm", "ci"] if (BENCH / "package-lock.json").exists() else ["npm", "install", "onnxruntime-node"]
    run_checked(command, cwd=BENCH, env=env)


def export_models(args, cache):
    run_checked([args.python, BENCH / "export_models.py", "--cache", cache,
                 "--depths", ",".join(m[len("resnet"):] for m in args.models),
                 "--batches", ",".join(map(str, args.batches)),
                 "--weights-seed", str(args.weights_seed), "--input-seed", str(args.input_seed),
                 *(["--int8"] if args.precision == "int8" else [])])


def last_level_cache_bytes():
    """The largest cache's size from sysfs (the L3 of x86 CPUs), or 32 MiB if sysfs does not say."""
    sizes = []
    for path in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*/size"):
        text = path.read_text().strip()
        factor = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
        digits = text.rstrip("KMG")
        if digits.isdigit():
            sizes.append(int(digits) * factor)
    return max(sizes, default=32 << 20)


EVICT_MIB = max(64, 4 * last_level_cache_bytes() >> 20)


def evict_caches(program):
    """Overwrites every CPU's caches, as another program running between two calls would."""
    subprocess.run([str(program), str(EVICT_MIB), str(os.cpu_count() or 1)], check=True,
                   stdout=subprocess.DEVNULL)


def one_thread_cpu():
    """The CPU that one-thread configurations run on: the last one this process may use."""
    return max(os.sched_getaffinity(0))


def on_one_cpu(argv, threads):
    """argv, run on one_thread_cpu() if `threads` is 1 (with taskset, which util-linux provides). One
    vCPU of a virtual machine can run slower than the other for a minute or more (a neighbour on the
    host); one-thread workers left to the scheduler then land on different vCPUs, and the ratio
    measures the vCPUs. Pinned to the same one, all three frameworks and the FMA probe see the same
    speed."""
    if threads != 1 or shutil.which("taskset") is None:
        return argv
    return ["taskset", "-c", str(one_thread_cpu())] + argv


def fma_probe(fma_peak, threads):
    """One-thread FMA GFLOP/s over about 0.05 s, on the CPU the configuration's workers use."""
    out = subprocess.run(on_one_cpu([str(fma_peak), "1", "1", "0.05", "--no-check"], threads), check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)["per_core_gflops"]


def measure_peak(args, fma_peak, max_threads):
    """Runs bench/fma_peak on a quiet machine (again, up to --retries times, if others disturbed it)."""
    for attempt in range(args.retries + 1):
        wait_for_quiet(args.wait_quiet)
        log(f"$ {fma_peak} {max_threads}")
        meter = LoadMeter().start()
        out = subprocess.run([str(fma_peak), str(max_threads)], check=True, capture_output=True, text=True).stdout
        peak = json.loads(out)
        peak["other_load"] = meter.other_share()
        if peak["other_load"] <= DISTURBED:
            break
        log(f"  other processes used {peak['other_load']:.0%} of the CPUs meanwhile"
            + ("; measuring again" if attempt < args.retries else ""))
    ratio = peak["doubling_ratio"]
    if ratio is None or not 1.8 <= ratio <= 2.2:
        log(f"WARNING: fma_peak: doubling the iterations changed the time by {ratio:.2f}x, not 2x; "
            "its peak may be wrong")
    log(f"FMA peak: {peak['per_core_gflops']:.1f} GFLOP/s per core (median; best {peak['per_core_best_gflops']:.1f}), "
        f"{peak['lanes']} floats a vector; "
        + ", ".join(f"{t} threads {g:.1f}" for t, g in peak["gflops_by_threads"].items()))
    return peak


# ---- workers ----------------------------------------------------------------------------------


class WorkerError(Exception):
    pass


class Worker:
    """One benchmark process, spoken to one line at a time (see ctresnet_bench.cpp for the protocol)."""

    def __init__(self, name, argv, log_path, env=None):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log, text=True, env=env)
        # A reader thread, so that a hung worker times out instead of hanging the benchmark.
        self._lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            if line.startswith("{"):  # anything else is a library talking on stdout
                self._lines.put(line)
        self._lines.put(None)

    def receive(self, timeout):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise WorkerError(f"{self.name}: no reply within {timeout:.0f} s") from None
        if line is None:
            code = self.proc.wait()
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise WorkerError(f"{self.name} exited with status {code}: " + " | ".join(tail))
        reply = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"{self.name}: {reply['error']}")
        return reply

    def send(self, command, timeout=RUN_TIMEOUT_S):
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # receive() reports the exit
        return self.receive(timeout)

    def cpu_seconds(self):
        """CPU time of all the worker's threads so far (schedstat's first field: nanoseconds on a CPU)."""
        total = 0
        task_dir = Path(f"/proc/{self.proc.pid}/task")
        for task in task_dir.iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except (OSError, ValueError, IndexError):
                pass  # a thread that just ended
        return total / 1e9

    def wait_idle(self, limit_s=2.0):
        """Returns once the worker uses under 5 % of a CPU over 20 ms, or after limit_s.

        Thread pools spin for a while after a run before they sleep (ORT's for tens of ms), and a
        spinning worker would steal a core from the next framework's turn.
        """
        deadline = time.monotonic() + limit_s
        try:
            before = self.cpu_seconds()
            while time.monotonic() < deadline:
                time.sleep(0.02)
                now = self.cpu_seconds()
                if now - before < 0.001:
                    return
                before = now
        except OSError:  # no /proc: just pause
            time.sleep(0.25)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._log.close()


def read_logits(path):
    values = array("f")
    with open(path, "rb") as f:
        values.frombytes(f.read())
    return values


def plan_runs(args, estimates_ms):
    """Runs per framework: --runs, unless that exceeds --max-seconds of timed work (then at least 5)."""
    per_run_s = sum(estimates_ms) / 1e3
    fitting = int(args.max_seconds / per_run_s) if per_run_s > 0 else args.runs
    return max(min(args.runs, fitting), min(args.runs, 5))


def run_config(args, ctx, model, batch, threads):
    depth = model[len("resnet"):]
    stem = ctx["cache"] / f"{model}_seed{args.weights_seed}"
    images = ctx["cache"] / f"input_b{batch}_seed{args.input_seed}.f32"
    if args.precision == "int8":
        weights, onnx = Path(f"{stem}.int8.safetensors"), Path(f"{stem}.int8.onnx")
        torch_model = Path(f"{stem}.int8.onednn.pt")
        expected = Path(f"{stem}.int8_b{batch}_seed{args.input_seed}.expected.f32")
    else:
        weights, onnx = Path(f"{stem}.safetensors"), Path(f"{stem}.onnx")
        torch_model, expected = weights, None
    tag = f"{model}_b{batch}_t{threads}" + ("_int8" if args.precision == "int8" else "")
    logits = {fw: ctx["out"] / f"{tag}.{fw}.logits.f32" for fw in FRAMEWORKS}
    argvs = {
        "ctresnet": [ctx["ctresnet_bench"], model, weights, images, batch, threads, logits["ctresnet"]],
        "pytorch": [args.python, BENCH / "torch_bench.py", depth, torch_model, images, batch, threads,
                    logits["pytorch"]],
        "ort": [args.node, BENCH / "ort_bench.mjs", onnx, images, batch, threads, logits["ort"]],
    }
    result = {"model": model, "batch": batch, "threads": threads,
              "frameworks": {fw: {"status": "ok", "ms": [], "round_medians": {}, "cpu_s": 0.0, "wall_s": 0.0}
                             for fw in FRAMEWORKS}}
    status = result["frameworks"]

    def fail(fw, error, state="error"):
        status[fw].update(status=state, reason=str(error))
        log(f"  {fw}: {state}: {error}")

    for fw in FRAMEWORKS:
        logits[fw].unlink(missing_ok=True)
    wait_for_quiet(args.wait_quiet)
    pytorch_env = {k: v for k, v in os.environ.items() if k not in PYTORCH_ISA_VARIABLES}
    envs = {"pytorch": dict(pytorch_env, **PYTORCH_ISA_LIMITS[args.pytorch_isa])}
    workers = {fw: Worker(fw, on_one_cpu(argvs[fw], threads), ctx["out"] / f"{tag}.{fw}.log", envs.get(fw))
               for fw in FRAMEWORKS}
    try:
        active = []
        for fw, worker in workers.items():
            try:
                ready = worker.receive(STARTUP_TIMEOUT_S)
            except WorkerError as error:
                fail(fw, error)
                continue
            if not ready.get("ready"):
                fail(fw, ready.get("unsupported", "not ready"), state="n/a")
                continue
            status[fw]["ready"] = ready
            active.append(fw)

        cpu_at_reply = {}

        def turn(fw, command):
            """Sends one command, then waits for the worker to go idle; a failing worker drops out."""
            try:
                reply = workers[fw].send(command)
                if command != "quit":
                    cpu_at_reply[fw] = workers[fw].cpu_seconds()
                    workers[fw].wait_idle()
                return reply
            except WorkerError as error:
                fail(fw, error)
                active.remove(fw)
                return None

        def cold_runs(fw, count):
            """`count` timed runs, each after every cache of the machine was overwritten."""
            times = []
            for _ in range(count):
                evict_caches(ctx["evict_caches"])
                reply = turn(fw, "run 1")
                if not reply:
                    return None
                times += reply["ms"]
            return {"ms": times}

        estimates = []
        for fw in list(active):
            warm = turn(fw, f"run {max(args.warmup, 1)}")
            if warm:
                estimates.append(statistics.median(warm["ms"]))
        runs = plan_runs(args, estimates)
        rounds = min(args.rounds, runs)
        per_round = [runs // rounds + (1 if r < runs % rounds else 0) for r in range(rounds)]
        result.update(runs=runs, rounds=rounds)
        log(f"  {runs} runs each, in {rounds} rounds of {'/'.join(map(str, sorted(set(per_round))))}")

        meter = LoadMeter(w.proc.pid for w in workers.values()).start()
        probes = []
        for r, count in enumerate(per_round):
            # The machine's speed drifts (by a third within minutes, on a VM): a short FMA probe in
            # every round gives the peak that this configuration's GFLOP/s are compared with.
            probes.append(fma_probe(ctx["fma_peak"], threads))
            order = active[r % len(active):] + active[:r % len(active)] if active else []
            for fw in order:
                cpu_before = workers[fw].cpu_seconds()
                reply = turn(fw, f"run {count}") if not args.cold else cold_runs(fw, count)
                if reply:
                    status[fw]["ms"] += reply["ms"]
                    status[fw]["round_medians"][r] = statistics.median(reply["ms"])
                    # CPU time over timed time: how many cores the framework really kept busy.
                    status[fw]["cpu_s"] += cpu_at_reply[fw] - cpu_before
                    status[fw]["wall_s"] += sum(reply["ms"]) / 1e3
        result["other_load"] = meter.other_share()
        result["core_peak_gflops"] = statistics.median(probes) if probes else None
        if result["other_load"] > DISTURBED:
            log(f"  WARNING: other processes used {result['other_load']:.0%} of the CPUs while this was timed")

        for fw in list(active):
            reply = turn(fw, "quit")
            if reply:
                status[fw].update(reply)  # max_rss_kib, and ctresnet's rss_now_kib
                workers[fw].proc.stdin.close()
                try:
                    workers[fw].proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    pass  # it has answered; close() ends it
    finally:
        for worker in workers.values():
            worker.close()

    for fw in FRAMEWORKS:
        if status[fw]["status"] == "ok" and status[fw]["ms"]:
            status[fw]["median_ms"] = statistics.median(status[fw]["ms"])
            if len(status[fw]["ms"]) >= 2:
                q1, _, q3 = statistics.quantiles(status[fw]["ms"], n=4)
                status[fw]["iqr_pct"] = 100 * (q3 - q1) / status[fw]["median_ms"]
            status[fw]["cpus_used"] = status[fw]["cpu_s"] / status[fw]["wall_s"]
            if status[fw]["cpus_used"] > threads * 1.1:
                log(f"  WARNING: {fw} kept {status[fw]['cpus_used']:.2f} CPUs busy with {threads} thread(s)")
    result["ratios"] = paired_ratios(status)
    finished = {fw: logits[fw] for fw in FRAMEWORKS if "max_rss_kib" in status[fw]}
    if expected is None:
        compare_logits(result, finished)
    else:
        compare_int8_logits(result, finished, expected)
    return result


def paired_ratios(status):
    """ctresnet's time over each peer's, as the median of per-round ratios.

    The two turns of a round are seconds apart, so a ratio within a round cancels the machine's
    slower drift, which a ratio of the pooled medians would not.
    """
    ratios = {}
    ours = status["ctresnet"]["round_medians"]
    for fw in ("pytorch", "ort"):
        theirs = status[fw]["round_medians"]
        paired = [ours[r] / theirs[r] for r in ours if r in theirs and theirs[r] > 0]
        if paired and status["ctresnet"]["status"] == "ok" and status[fw]["status"] == "ok":
            ratios[fw] = statistics.median(paired)
    return ratios


def compare_logits(result, files):
    """Every framework's logits against PyTorch's (or the first available), on the issue's tolerance."""
    outputs = {fw: read_logits(path) for fw, path in files.items()}
    expected_size = result["batch"] * CLASSES
    check = result["logits"] = {"ok": True, "diffs": {}}
    for fw, values in outputs.items():
        if len(values) != expected_size or any(v != v for v in values):  # wrong size or NaN
            check["ok"] = False
            check["diffs"][fw] = f"bad logits ({len(values)} values, expected {expected_size}, NaN-free)"
    valid = {fw: values for fw, values in outputs.items() if fw not in check["diffs"]}
    reference = next((fw for fw in ("pytorch", "ort", "ctresnet") if fw in valid), None)
    if reference is None or len(valid) < 2:
        check["ok"] = False
        check["note"] = "fewer than two frameworks produced usable logits"
        log(f"  LOGITS NOT COMPARED: {check['note']}")
        return
    ref = valid[reference]
    largest = max(abs(v) for v in ref)
    check.update(reference=reference, max_abs_logit=largest, tolerance=1e-3 * max(1.0, largest))
    for fw, values in valid.items():
        if fw == reference:
            continue
        diff = max(abs(a - b) for a, b in zip(values, ref))
        check["diffs"][fw] = diff
        if not diff <= check["tolerance"]:
            check["ok"] = False
    shown = ", ".join(f"{fw} {d:.2e}" if isinstance(d, float) else f"{fw} {d}" for fw, d in check["diffs"].items())
    verdict = "agree" if check["ok"] else "LOGITS MISMATCH"
    log(f"  logits vs {reference}: {shown} (tolerance {check['tolerance']:.2e}): {verdict}")


def compare_int8_logits(result, files, expected_path):
    """ctresnet's int8 logits must equal PyTorch's qnnpack model's bit for bit; the others are shown.

    PyTorch on onednn (7-bit activations) and ONNX Runtime's int8 kernels quantize and round in
    their own ways, so their logits differ from the qnnpack model's by some quantization steps.
    """
    expected = read_logits(expected_path)
    largest = max(abs(v) for v in expected)
    check = result["logits"] = {"ok": True, "diffs": {}, "reference": "qnnpack", "max_abs_logit": largest,
                                "tolerance": 0.0}
    for fw, path in files.items():
        values = read_logits(path)
        if len(values) != len(expected) or any(v != v for v in values):
            check["diffs"][fw] = f"bad logits ({len(values)} values, expected {len(expected)}, NaN-free)"
            check["ok"] &= fw != "ctresnet"
            continue
        check["diffs"][fw] = max(abs(a - b) for a, b in zip(values, expected))
    if check["diffs"].get("ctresnet") != 0.0:
        check["ok"] = False
    shown = ", ".join(f"{fw} {d:.2e}" if isinstance(d, float) else f"{fw} {d}" for fw, d in check["diffs"].items())
    verdict = "ctresnet equals it" if check["ok"] else "CTRESNET DIFFERS FROM PYTORCH'S QNNPACK MODEL"
    log(f"  int8 logits vs PyTorch's qnnpack model: {shown}: {verdict}")


# ---- report -----------------------------------------------------------------------------------


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def command_output(argv, cwd=None):
    try:
        return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def compiler_version(build_dir):
    """First line of --version of the compiler the build used."""
    cache = build_dir / "CMakeCache.txt"
    compiler = "c++"
    if cache.exists():
        for line in cache.read_text().splitlines():
            if line.startswith("CMAKE_CXX_COMPILER:"):
                compiler = line.split("=", 1)[1]
    return (command_output([compiler, "--version"]).splitlines() or ["?"])[0]


def ctresnet_revision():
    """The commit, and with uncommitted changes a digest of include/ that tells two such states apart."""
    commit = command_output(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT) or "?"
    if not command_output(["git", "status", "--porcelain", "--", "include"], cwd=ROOT):
        return commit
    digest = hashlib.sha1()
    for path in sorted((ROOT / "include").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return f"{commit} with uncommitted changes in include/ (digest {digest.hexdigest()[:10]})"


def first_ready(results, fw, key):
    for r in results:
        value = r["frameworks"][fw].get("ready", {}).get(key)
        if value is not None:
            return value
    return None


def markdown_table(header, rows):
    """The first three columns (model, batch, threads) left-aligned, the numbers right-aligned."""
    rule = "|" + "|".join("---:" if i > 2 else "---" for i in range(len(header))) + "|"
    lines = ["| " + " | ".join(header) + " |", rule]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def duration(delta):
    seconds = round(delta.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


def fmt(value, digits=1, suffix=""):
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def other_load_cell(share):
    if share is None:
        return "n/a"
    return f"{100 * share:.0f} %" + (" (!)" if share > DISTURBED else "")


def tables(results, peak, int8=False):
    """The latency, memory and agreement tables, as markdown."""
    macs = {r["model"]: r["frameworks"]["ctresnet"]["ready"]["num_macs"]
            for r in results if "ready" in r["frameworks"]["ctresnet"]}
    speed, memory, agreement = [], [], []
    for r in results:
        f = r["frameworks"]
        config = [r["model"], r["batch"], r["threads"]]

        ms = {fw: f[fw].get("median_ms") for fw in FRAMEWORKS}
        ct = ms["ctresnet"]
        gflops = 2 * macs[r["model"]] * r["batch"] / (ct * 1e-3) * 1e-9 if ct and r["model"] in macs else None
        core_peak = r.get("core_peak_gflops") or peak["per_core_gflops"]
        of_peak = 100 * gflops / (core_peak * r["threads"]) if gflops and not int8 else None
        speed.append(config + [
            r.get("runs", "-"), *(fmt(ms[fw], 2) for fw in FRAMEWORKS),
            *(fmt(r["ratios"].get(fw), 2) for fw in ("pytorch", "ort")),
            fmt(gflops), fmt(core_peak, 0), fmt(of_peak, 0, " %"),
            " / ".join(fmt(f[fw].get("iqr_pct"), 0) for fw in FRAMEWORKS) + " %",
            " / ".join(fmt(f[fw].get("cpus_used"), 1) for fw in FRAMEWORKS), other_load_cell(r.get("other_load"))])

        rss = {fw: f[fw]["max_rss_kib"] / 1024 if "max_rss_kib" in f[fw] else None for fw in FRAMEWORKS}
        ready = f["ctresnet"].get("ready")
        if ready and rss["ctresnet"] is not None:
            weights, workspace = ready["weights_bytes"] / MIB, ready["workspace_bytes"] / MIB
            budget = weights + workspace + RSS_SLACK_MIB
            margin = budget - rss["ctresnet"]
            ctresnet_cells = [fmt(rss["ctresnet"]), fmt(ready["params_bytes"] / MIB), fmt(weights), fmt(workspace),
                              fmt(budget), f"{margin:+.1f}" + ("" if margin >= 0 else " OVER"),
                              fmt(ready["rss_after_load_kib"] / 1024), fmt(f["ctresnet"].get("rss_now_kib", 0) / 1024)]
        else:
            ctresnet_cells = ["n/a"] * 8
        memory.append(config + ctresnet_cells + [fmt(rss["pytorch"]), fmt(rss["ort"])])

        check = r["logits"]

        def diff_cell(fw):
            if fw == check.get("reference"):
                return "ref"
            d = check["diffs"].get(fw)
            if int8 and d == 0.0:
                return "0 (equal)"
            return f"{d:.1e}" if isinstance(d, float) else (d or "-")

        agreement.append(config + [
            fmt(check.get("max_abs_logit"), 2), *(diff_cell(fw) for fw in FRAMEWORKS),
            ("ctresnet: 0; others shown" if int8 else f"{check['tolerance']:.1e}") if "tolerance" in check else "-",
            "ok" if check["ok"] else "**MISMATCH**"])

    config = ["model", "batch", "threads"]
    return (
        markdown_table(config + ["runs", "ctresnet ms", "PyTorch ms", "ORT ms", "ctresnet/PyTorch", "ctresnet/ORT",
                                 "ctresnet GOP/s" if int8 else "ctresnet GFLOP/s", "core peak", "of peak", "spread",
                                 "CPUs used", "other load"], speed),
        markdown_table(config + ["ctresnet peak", "parameters", "weights (state)", "workspace", "budget", "margin",
                                 "peak after load", "RSS at end", "PyTorch peak", "ORT peak"], memory),
        markdown_table(config + ["max abs logit", "ctresnet", "PyTorch", "ORT", "tolerance", "verdict"], agreement),
    )


def unavailable_notes(results):
    notes = []
    for r in results:
        for fw in FRAMEWORKS:
            f = r["frameworks"][fw]
            if f["status"] != "ok":
                notes.append(f"- {r['model']} batch {r['batch']} threads {r['threads']}, {TITLES[fw]}: "
                             f"{f['status']}: {f.get('reason', '')}")
    return notes


def report(args, results, peak, revision, started, finished):
    int8 = args.precision == "int8"
    speed, memory, agreement = tables(results, peak, int8)
    runs = ", ".join(str(n) for n in sorted({r["runs"] for r in results if r.get("runs")}))
    by_threads = ", ".join(f"{g:.0f} on {t} (best {peak['best_gflops_by_threads'][t]:.0f})"
                           for t, g in peak["gflops_by_threads"].items())
    disturbed = peak.get("other_load", 0) > DISTURBED
    limits = ", ".join(f"{name}={value}" for name, value in PYTORCH_ISA_LIMITS[args.pytorch_isa].items())
    header = [
        "# ctresnet vs PyTorch vs ONNX Runtime" + (", int8" if int8 else ""),
        "",
        f"- Date: {started.isoformat(timespec='minutes')}; the whole run took {duration(finished - started)}"
        + (f", {QUIET_WAIT['seconds'] / 60:.1f} min of it waiting for other processes to finish"
           if QUIET_WAIT["seconds"] >= 30 else ""),
        f"- CPU: {cpu_model()} ({os.cpu_count()} logical CPUs), {platform.system()} {platform.release()}",
        f"- fp32 FMA peak measured by bench/fma_peak: {peak['per_core_gflops']:.0f} GFLOP/s per core, the median "
        f"of {peak['repeats']} repeats ({peak['lanes']}-float vectors); GFLOP/s by threads: {by_threads}"
        + (f" (disturbed: other load {peak['other_load']:.0%})" if disturbed else ""),
        f"- ctresnet: git {revision}; {compiler_version(args.build_dir)}, -O3 -march={args.march} -DNDEBUG; "
        f"API: {first_ready(results, 'ctresnet', 'api') or 'n/a'}",
        f"- PyTorch {first_ready(results, 'pytorch', 'torch') or 'n/a'}: "
        + ("the model quantized with engine onednn (per-channel weights, 7-bit activations), torch.jit.trace + "
           "freeze" if int8 else "torch.jit.trace + freeze + optimize_for_inference (oneDNN)")
        + ", inference_mode, set_num_threads(threads)"
        + (f"; kernels limited to {args.pytorch_isa.upper()} ({limits})" if limits else "")
        + f"; ATen's CPU capability: {first_ready(results, 'pytorch', 'cpu_capability') or 'n/a'}",
        f"- ONNX Runtime {first_ready(results, 'ort', 'onnxruntime') or 'n/a'} (onnxruntime-node, node "
        f"{command_output([args.node, '--version']).lstrip('v')}): CPU provider, graph optimisation 'all', "
        "intra-op threads = threads, inter-op 1, sequential; ONNX opset 13"
        + ("; the qnnpack model exported as QDQ" if int8 else ""),
        f"- Input: batch {'/'.join(map(str, args.batches))} x 3x224x224 fp32, seeded random; weights: seeded random "
        "(tools/resnet_models.py randomize_), the same for all three"
        + ("; quantized by bench/export_models.py --int8, calibrated on 8 seeded random images; ctresnet runs "
           "tools/quantize.py's model (engine qnnpack)" if int8 else ""),
        f"- Method: one process per framework and configuration; {args.warmup} warm-up runs, then up to "
        f"{args.rounds} interleaved rounds, the order rotating, each a turn of a few timed runs per framework; "
        f"median of the pooled runs ({runs} per framework; fewer where {args.runs} would exceed "
        f"{args.max_seconds:.0f} s of timed work for the configuration)"
        + (f"; with 1 thread, all three and the FMA probe on CPU {one_thread_cpu()}"
           if 1 in args.threads and shutil.which("taskset") else "")
        + (f"; cold caches: before every timed run, bench/evict_caches wrote and read {EVICT_MIB} MiB on every "
           "CPU, and each turn was one run" if args.cold else ""),
        "",
    ]
    body = [
        "## Latency (median ms per batch)",
        "",
        "ctresnet/X below 1 means ctresnet is faster; it is the median of the per-round ratios, which cancels "
        "drift between rounds, so it can differ a little from the ratio of the medians. GFLOP/s count "
        "2 x multiply-adds of the convs and fc. 'core peak': one core's FMA GFLOP/s during this configuration, "
        "the median of a short bench/fma_peak probe in each round (the machine's speed drifts); 'of peak' is "
        "ctresnet's GFLOP/s over the core peak times the threads. "
        "'spread': the interquartile range of each framework's runs over their median (ctresnet / PyTorch / ORT). "
        "'CPUs used': each framework's CPU time over its timed time (ctresnet / PyTorch / ORT; the spinning "
        "that follows a turn is not counted). 'other load': the share of all CPUs that other processes used "
        "during the timed rounds; (!) above 5 % marks a row the machine's neighbours disturbed.",
        "",
        speed,
        "",
        "## Peak RSS (MiB)",
        "",
        f"ctresnet's budget is weights + workspace + {RSS_SLACK_MIB} MiB, where weights is its whole state "
        "buffer (Net::state_floats x 4 bytes: the parameters, BatchNorm statistics and any transformed copies "
        "of the weights); 'parameters' is Net::num_params x 4 bytes for comparison. margin = budget - peak RSS. "
        "For ctresnet also: 'peak after load' is its peak RSS once the weights are loaded, before the input and "
        "workspace exist (the loader's own peak); 'RSS at end' its resident size after the last run (the steady "
        "state).",
        "",
        memory,
        "",
        "## Agreement of logits",
        "",
        ("Max abs difference from the dequantized logits of PyTorch's qnnpack model, which ctresnet's must "
         "equal; PyTorch's onednn model and ONNX Runtime round in their own ways." if int8 else
         "Max abs difference from the reference logits ('ref': PyTorch's, unless PyTorch failed); "
         "tolerance 1e-3 x max(1, max |logit|)."),
        "",
        agreement,
        "",
    ]
    notes = unavailable_notes(results)
    if notes:
        body += ["Not measured:", "", *notes, ""]
    text = "\n".join(header + body)
    name = ("results" + ("-int8" if int8 else "") + ("-cold" if args.cold else "")
            + (f"-pytorch-{args.pytorch_isa}" if args.pytorch_isa != "native" else ""))
    (args.build_dir / f"{name}.md").write_text(text)
    (args.build_dir / f"{name}.json").write_text(json.dumps(
        {"started": started.isoformat(timespec="minutes"), "cpu": cpu_model(), "peak": peak, "results": results},
        indent=1))
    log("\n" + text)
    log(f"Written to {args.build_dir / (name + '.md')} (samples in {name}.json)")


def main():
    args = parse_args()
    started = datetime.datetime.now().astimezone()
    ctresnet_bench, fma_peak, evict_caches = build(args)
    # The headers may be changing under us: note what was built, and keep it for --skip-build.
    revision_file = args.build_dir / "bench" / "ctresnet_revision.txt"
    if not args.skip_build:
        revision_file.write_text(ctresnet_revision())
    revision = revision_file.read_text() if revision_file.exists() else "unknown (--skip-build)"
    built_by_hand = ctresnet_bench.exists() and revision_file.exists() and \
        ctresnet_bench.stat().st_mtime > revision_file.stat().st_mtime
    if built_by_hand:  # since run_bench.py built it (cmake --build): the recorded revision need not be what runs
        revision = f"unknown (--skip-build; {ctresnet_bench.name} was built after run_bench.py last built it)"
    ensure_onnxruntime(args)
    cache = args.build_dir / "models"
    export_models(args, cache)
    out = args.build_dir / "run"
    out.mkdir(parents=True, exist_ok=True)
    peak = measure_peak(args, fma_peak, max(args.threads))
    ctx = {"ctresnet_bench": ctresnet_bench, "fma_peak": fma_peak, "evict_caches": evict_caches, "cache": cache,
           "out": out}

    results = []
    for model in args.models:
        for batch in args.batches:
            for threads in args.threads:
                log(f"{model}, batch {batch}, {threads} thread{'s' if threads > 1 else ''}:")
                for attempt in range(args.retries + 1):
                    result = run_config(args, ctx, model, batch, threads)
                    if result.get("other_load", 0) <= DISTURBED or attempt == args.retries:
                        break
                    log("  measuring again: the machine was busy")
                results.append(result)
    report(args, results, peak, revision, started, datetime.datetime.now().astimezone())
    if args.chart:
        import plot_bench

        plot_bench.write_chart(results, args.chart, cpu_model(), started.date().isoformat())
        log(f"Chart written to {args.chart}")

    failed = [r for r in results if not r["logits"]["ok"]]
    errors = [n for r in results for n in r["frameworks"].values() if n["status"] == "error"]
    if failed or errors:
        log(f"\nFAILED: {len(failed)} configuration(s) with disagreeing or missing logits, "
            f"{len(errors)} worker error(s)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as error:  # its output is already on the terminal
        sys.exit(f"run_bench.py: failed: {' '.join(map(str, error.cmd))} (exit status {error.returncode})")
