#!/usr/bin/env python3
"""Draws strata_bench --json results with gnuplot (Debian: gnuplot-nox).

    python3 scripts/plot-bench.py OUT_PREFIX results.json [more.json ...]

Writes OUT_PREFIX-throughput.png (ops/s per benchmark per engine, one bar
each) and OUT_PREFIX-latency.png (latency CDFs, one panel per benchmark
that recorded latencies, one line per engine and operation type). Uses only
the Python standard library; gnuplot does the drawing.
"""
import json
import os
import subprocess
import sys
import tempfile


def load(paths):
    results = []
    for path in paths:
        with open(path) as f:
            results += [r for r in json.load(f)["results"] if not r["skipped"]]
    return results


def ordered(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def quote(s):
    return '"' + s.replace('"', "'") + '"'


def throughput(results, out, work):
    benchmarks = ordered(r["benchmark"] for r in results)
    engines = ordered(r["engine"] for r in results)
    best = {(r["benchmark"], r["engine"]): r["ops_per_sec"] for r in results}
    data = os.path.join(work, "throughput.dat")
    with open(data, "w") as f:
        f.write("benchmark " + " ".join(engines) + "\n")
        for b in benchmarks:
            f.write(b + " " + " ".join(str(best.get((b, e), 0)) for e in engines) + "\n")
    plots = ", ".join(
        f"{quote(data)} using {i + 2}:xtic(1) title {quote(e)}" for i, e in enumerate(engines))
    return f"""
set terminal pngcairo noenhanced size 1400,600 font ",10"
set output {quote(out)}
set title "strata_bench: operations per second (log scale; higher is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel "ops/s"
set xtics rotate by -30
set key top right
set grid ytics
plot {plots}
"""


def latency(results, out, work):
    panels = ordered(r["benchmark"] for r in results if r["latency_us"])
    if not panels:
        return ""
    columns = min(3, len(panels))
    rows = (len(panels) + columns - 1) // columns
    script = f"""
set terminal pngcairo noenhanced size {460 * columns},{360 * rows} font ",9"
set output {quote(out)}
set multiplot layout {rows},{columns} title "strata_bench: latency CDFs (microseconds, log scale)"
set logscale x
set xlabel "latency (us)"
set ylabel "percentile"
set yrange [0:100]
set key bottom right font ",8"
set grid
"""
    for b in panels:
        lines = []
        for r in results:
            if r["benchmark"] != b:
                continue
            for op, stats in r["latency_us"].items():
                path = os.path.join(work, f"cdf-{b}-{r['engine']}-{op}.dat")
                with open(path, "w") as f:
                    for p, us in stats["cdf"]:
                        f.write(f"{max(us, 0.01)} {p}\n")
                lines.append(f"{quote(path)} using 1:2 with lines lw 2 title {quote(r['engine'] + ' ' + op)}")
        script += f"set title {quote(b)}\nplot {', '.join(lines)}\n"
    return script + "unset multiplot\n"


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    prefix, paths = sys.argv[1], sys.argv[2:]
    results = load(paths)
    with tempfile.TemporaryDirectory() as work:
        for name, make in (("throughput", throughput), ("latency", latency)):
            out = f"{prefix}-{name}.png"
            script = make(results, out, work)
            if script:
                subprocess.run(["gnuplot"], input=script, text=True, check=True)
                print(out)


if __name__ == "__main__":
    main()
