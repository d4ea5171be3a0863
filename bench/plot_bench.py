#!/usr/bin/python3
"""A bar chart of run_bench.py's latencies: ctresnet, PyTorch and ONNX Runtime side by side.

    /usr/bin/python3 bench/plot_bench.py                       # build-bench/results.json -> build-bench/latency.svg
    /usr/bin/python3 bench/plot_bench.py --results RESULTS.json --out CHART.svg

One panel per model and batch size, a group of three bars per thread count: the median ms per
batch of each framework (lower is better), whiskers over the interquartile range of its runs. A
configuration that other processes disturbed (the report's "(!)") is marked so under its group.
The title gives the CPU and the date of the run, which results.json records (for a file written
before it did, they are read from the results.md beside it). The format follows the file's suffix
(.svg, .png, .pdf). Needs Debian's python3-matplotlib; run_bench.py --chart calls this too.
"""
import argparse
import json
import re
import statistics
import sys
from pathlib import Path

from run_bench import DISTURBED, FRAMEWORKS

TITLES = {"ctresnet": "ctresnet", "pytorch": "PyTorch", "ort": "ONNX Runtime"}
COLORS = {"ctresnet": "#e6550d", "pytorch": "#3182bd", "ort": "#31a354"}


def run_facts(data, results_path):
    """(CPU, day) of the run: from results.json, else from the results.md that the same run wrote."""
    cpu, date = data.get("cpu"), data.get("started")
    report = results_path.with_name("results.md")
    if (cpu is None or date is None) and report.exists():
        text = report.read_text()
        found_date = re.search(r"^- Date: (\S+?);", text, re.MULTILINE)
        found_cpu = re.search(r"^- CPU: (.+?) \(\d+ logical CPUs\)", text, re.MULTILINE)
        date = date or (found_date and found_date.group(1))
        cpu = cpu or (found_cpu and found_cpu.group(1))
    return cpu or "CPU not recorded", date.split("T")[0] if date else "date not recorded"


def spread(framework):
    """(median, first quartile, third quartile) of a framework's runs in one configuration, or None."""
    runs = framework.get("ms") or []
    if framework.get("median_ms") is None or not runs:
        return None
    if len(runs) < 2:
        return framework["median_ms"], runs[0], runs[0]
    low, _, high = statistics.quantiles(runs, n=4)
    return framework["median_ms"], low, high


def write_chart(results, path, cpu, day):
    """Draws the latencies of `results` (results.json's list) into `path`."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    models = list(dict.fromkeys(r["model"] for r in results))
    batches = sorted({r["batch"] for r in results})
    height = 1.2 + 2.9 * len(batches)  # inches: the title, the legend and the note below take 1.2
    fig, axes = plt.subplots(len(batches), len(models), squeeze=False,
                             figsize=(max(7.0, 1.2 + 3.4 * len(models)), height))  # at least the title's width
    width = 0.26
    for row, batch in enumerate(batches):
        for column, model in enumerate(models):
            ax = axes[row][column]
            configs = sorted((r for r in results if r["model"] == model and r["batch"] == batch),
                             key=lambda r: r["threads"])
            ax.set_title(f"{model}, batch {batch}", fontsize=10)
            if not configs:
                ax.set_axis_off()
                continue
            bars = {fw: [spread(r["frameworks"][fw]) for r in configs] for fw in FRAMEWORKS}
            top = max((b[2] for values in bars.values() for b in values if b), default=0)
            for i, fw in enumerate(FRAMEWORKS):
                for x, bar in enumerate(bars[fw]):
                    position = x + (i - 1) * width
                    if bar is None:
                        ax.text(position, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
                        continue
                    median, low, high = bar
                    ax.bar(position, median, width, color=COLORS[fw], yerr=[[median - low], [high - median]],
                           error_kw={"elinewidth": 0.8, "capsize": 2})
                    ax.text(position, high + 0.01 * top, f"{median:.1f}" if median < 100 else f"{median:.0f}",
                            ha="center", va="bottom", fontsize=7)
            ax.set_xticks(range(len(configs)))
            ax.set_xticklabels([f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}"
                                + (" (!)" if (r.get("other_load") or 0) > DISTURBED else "") for r in configs],
                               fontsize=8)
            ax.set_xlim(-0.5, len(configs) - 0.5)
            ax.set_ylim(0, 1.15 * top if top else 1)
            ax.tick_params(axis="y", labelsize=8)
            if column == 0:
                ax.set_ylabel("median ms per batch", fontsize=8)
            ax.spines["top"].set_visible(False)
            ax.spines["right"].set_visible(False)
    fig.suptitle("Latency of ctresnet, PyTorch and ONNX Runtime (median ms per batch, lower is better)\n"
                 f"{cpu}, {day}", fontsize=10)
    fig.legend(handles=[Patch(color=COLORS[fw], label=TITLES[fw]) for fw in FRAMEWORKS], loc="lower center",
               bbox_to_anchor=(0.5, 0.16 / height), ncol=len(FRAMEWORKS), fontsize=8, frameon=False)
    fig.text(0.5, 0.03 / height, "whiskers: interquartile range of the runs; (!): disturbed by other processes",
             ha="center", va="bottom", fontsize=7, color="#666666")
    fig.tight_layout(rect=(0, 0.5 / height, 1, 1))
    # Reproducible files: no creation date, fixed element ids.
    matplotlib.rcParams["svg.hashsalt"] = "ctresnet"
    metadata = {"Date": None} if Path(path).suffix.lower() in (".svg", ".pdf") else {}
    fig.savefig(path, metadata=metadata)
    plt.close(fig)


def main():
    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=root / "build-bench" / "results.json",
                        help="what run_bench.py saved (default: build-bench/results.json)")
    parser.add_argument("--out", type=Path, help="the chart (default: latency.svg beside the results)")
    args = parser.parse_args()
    try:
        data = json.loads(args.results.read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"plot_bench.py: cannot read {args.results}: {error}")
    if not data.get("results"):
        sys.exit(f"plot_bench.py: {args.results} holds no results")
    out = args.out or args.results.with_name("latency.svg")
    write_chart(data["results"], out, *run_facts(data, args.results))
    print(f"Written to {out}")


if __name__ == "__main__":
    main()
