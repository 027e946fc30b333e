#!/usr/bin/env python3
"""Prints the medians of a simdiff_bench JSON report as one sorted table.

Random interleaving prints the runs in a shuffled order; this groups them by shape and operation
and adds the speed-up over the scalar baseline of the same operation and shape.

    simdiff_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \\
        --benchmark_report_aggregates_only=true --benchmark_min_time=0.2 \\
        --benchmark_out=results.json --benchmark_out_format=json
    bench/summarize.py results.json ['REGEX selecting benchmark names']
"""
import json
import re
import sys

TIME_UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as report_file:
        report = json.load(report_file)
    selected = re.compile(sys.argv[2] if len(sys.argv) == 3 else "")

    for key, value in sorted(report["context"].items()):
        if "bandwidth" in key:
            print(f"{key}: {value}")

    # One row per benchmark: the median aggregate when repetitions were run, else the run itself.
    rows = {}
    for run in report["benchmarks"]:
        if run.get("aggregate_name", "median") == "median":
            rows[run["run_name"]] = run

    def parts(name):  # "Softmax/highway:AVX2/256x1000" -> op, where, shape
        pieces = name.split("/")
        return pieces[0], "/".join(pieces[1:-1]), pieces[-1]

    baseline_ns = {}
    for name, run in rows.items():
        op, where, shape = parts(name)
        if where.startswith("baseline"):
            baseline_ns[(op, shape)] = run["cpu_time"] * TIME_UNIT_NS[run["time_unit"]]

    def shape_size(shape):  # "4096x4096" -> 16777216, "256MiB" -> 256: groups sort by size
        numbers = [int(n) for n in re.findall(r"\d+", shape)]
        product = 1
        for number in numbers:
            product *= number
        return product

    print(f"{'benchmark':<44} {'elements/ns':>11} {'time/call':>12} {'bw %':>7} {'x base':>7}")
    for name in sorted(rows, key=lambda n: (shape_size(parts(n)[2]), parts(n)[2], parts(n)[0], parts(n)[1])):
        if not selected.search(name):
            continue
        run = rows[name]
        op, _, shape = parts(name)
        nanoseconds = run["cpu_time"] * TIME_UNIT_NS[run["time_unit"]]
        speedup = baseline_ns.get((op, shape))
        print(f"{name:<44} {run.get('items_per_second', 0) / 1e9:11.3f} "
              f"{nanoseconds / 1e3:9.2f} us {run.get('bw_percent', 0):6.1f}% "
              f"{f'{speedup / nanoseconds:.1f}x' if speedup else '':>7}")


if __name__ == "__main__":
    main()
