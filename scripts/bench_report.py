#!/usr/bin/env python3
"""One table of every `make bench` figure against its same-run baseline and its goal (issue 7),
from the per-benchmark results in bench/results/: ingest.json, nested.json, compact-10000.json, commit.md,
lambda.json, coldstart.json, zips.json (arm64, `make package`) and zips-native.json (this run's
native release builds). Writes bench/results/summary.{md,json} and summary.png (a chart:
throughput in rows/s per tool, and peak RSS against the 128 MiB bound). A figure whose results
file is missing is reported as not measured rather than left out."""
import json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import RESULTS, save_results  # noqa: E402
MIB_BOUND = 128


def load(name):
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def commit_figures():
    """Parses the markdown table `floe bench-commit` prints."""
    path = os.path.join(RESULTS, "commit.md")
    if not os.path.exists(path):
        return None
    out = {}
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 7 and re.match(r"[\d.]+$", cells[3] or "x"):
            out[cells[0]] = dict(commits_s=float(cells[3]), objects_s=float(cells[4]), p50=cells[5])
        elif len(cells) >= 7 and cells[0].startswith("queue, batch") and "end to end" in cells[0]:
            out[cells[0]] = dict(p50_ms=float(cells[5]), p95_ms=float(cells[6]))
    return out


def row(figure, floe, baseline, ratio, goal, met):
    return dict(figure=figure, floe=floe, baseline=baseline, ratio=ratio, goal=goal, met=met)


def main():
    rows = []
    ingest = load("ingest.json")
    if ingest:
        duck = next(r for r in ingest["rows"] if r["tool"].startswith("DuckDB"))
        pyice = next((r for r in ingest["rows"] if r["tool"].startswith("pyiceberg")), None)
        rps = lambda r: r["nrows"] / r["secs"]  # noqa: E731
        for r in ingest["rows"]:
            if not r["tool"].startswith("Floe") or r["nrows"] != duck["nrows"]:
                continue  # the ~1 GB run is for RSS (below)
            label = f"ingest {r['case'].split(' ->')[0]}, {r['tool'].split(', ')[1]}"
            rows.append(row(f"{label}: rows/s vs DuckDB CSV->Parquet", f"{rps(r)/1e3:.0f} k rows/s ({r['mb_s']:.0f} MB/s)",
                            f"{rps(duck)/1e3:.0f} k rows/s", rps(r) / rps(duck), "≥ 1.2×", rps(r) / rps(duck) >= 1.2))
            if pyice and r["case"].startswith("CSV"):
                rows.append(row(f"{label}: vs pyiceberg append", f"{r['mb_s']:.1f} MB/s", f"{pyice['mb_s']:.1f} MB/s",
                                r["mb_s"] / pyice["mb_s"], "≥ 2×", r["mb_s"] / pyice["mb_s"] >= 2))
        for r in ingest["rows"]:
            if r["tool"].startswith("Floe"):
                label = f"peak RSS, {r['case'].split(' ->')[0]}, {r['tool'].split(', ')[1]}"
                rows.append(row(label, f"{r['rss_mib']:.0f} MiB", f"DuckDB {duck['rss_mib']:.0f} MiB",
                                r["rss_mib"] / duck["rss_mib"], f"≤ {MIB_BOUND} MiB", r["rss_mib"] <= MIB_BOUND))
    else:
        rows.append(row("ingest", "not measured", "", None, "", False))

    for name, label in (("compact-10000.json", "compaction 200 files, 2 M rows -> one"),
                        ("compact.json", "compaction 200 files, 10 M rows"),
                        ("compact-10000-sort.json", "sort compaction 200 files, 2 M rows (country, order_ts)")):
        c = load(name)
        if not c:
            continue
        floe = next(x for x in c["results"] if x["tool"].startswith("Floe"))
        duck_s3 = next((x for x in c["results"] if x["tool"].startswith("DuckDB") and "S3 -> S3" in x["tool"]), None)
        duck = next((x for x in c["results"] if x["tool"].startswith("DuckDB")), None)
        pyarrow = next((x for x in c["results"] if x["tool"].startswith("pyarrow")), None)
        base = duck_s3 or duck or pyarrow
        bname = "DuckDB (S3 -> S3)" if duck_s3 else "DuckDB (local files)" if duck else "pyarrow"
        ratio = base["secs"] / floe["secs"]
        rows.append(row(f"{label}: rows/s vs {bname} one thread", f"{c['rows']/floe['secs']/1e6:.2f} M rows/s",
                        f"{c['rows']/base['secs']/1e6:.2f} M rows/s", ratio, "≥ 1.0×", ratio >= 1.0))
        rows.append(row(f"{label}: peak RSS", f"{floe['rss_mib']:.0f} MiB", f"{bname} {base['rss_mib']:.0f} MiB",
                        floe["rss_mib"] / base["rss_mib"], f"≤ {MIB_BOUND} MiB", floe["rss_mib"] <= MIB_BOUND))

    nested = load("nested.json")
    if nested:
        for case in dict.fromkeys(r["case"] for r in nested["rows"]):
            floe = next(r for r in nested["rows"] if r["case"] == case and r["tool"].startswith("Floe"))
            for base in (r for r in nested["rows"] if r["case"] == case and not r["tool"].startswith("Floe")):
                ratio = base["secs"] / floe["secs"]
                rows.append(row(f"ingest {case}: records/s vs {base['tool'].split(' ->')[0]}",
                                f"{nested['records']/floe['secs']/1e3:.0f} k rec/s", f"{nested['records']/base['secs']/1e3:.0f} k rec/s",
                                ratio, "(issue 15: measured)", True))

    bf = load("backfill.json")
    if bf:
        floe = bf["rows"][0]
        base = next((r for r in bf["rows"][1:]), None)
        rows.append(row(f"backfill {floe['case']}: objects/s" + (" vs pyiceberg append" if base else ""),
                        f"{bf['objects']/floe['secs']:.0f} objects/s", f"{bf['objects']/base['secs']:.0f} objects/s" if base else "",
                        base["secs"] / floe["secs"] if base else None, "(issue 16: measured)", True))

    reg = load("register.json")
    if reg:
        floe = reg["rows"][0]
        for base in reg["rows"][1:3]:
            rows.append(row(f"register in place {floe['case']}: objects/s vs {base['tool'].split(' (')[0].split(':')[0]}",
                            f"{floe['objects']/floe['secs']:.0f} objects/s", f"{base['objects']/base['secs']:.0f} objects/s",
                            base["secs"] / floe["secs"], "(issue 16: measured)", True))
        single = [r for r in reg["rows"] if r.get("commits")]
        if len(single) == 2:
            rows.append(row("register in place: commits/s, one snapshot per object vs ingest mode",
                            f"{single[0]['commits']/single[0]['secs']:.1f} commits/s", f"{single[1]['commits']/single[1]['secs']:.1f} commits/s",
                            single[1]["secs"] / single[0]["secs"], "(issue 16: measured)", True))

    scaling = load("scaling.json")
    if scaling:
        med = {k: sorted(v)[len(v) // 2] for k, v in scaling["secs"].items()}
        for name, duck in (("Floe, 1 core (pipeline auto = off)", "DuckDB threads=1"), ("Floe, 2 cores, pipeline on (auto)", "DuckDB threads=2")):
            if name in med and duck in med:
                rows.append(row(f"scaling: CSV unpartitioned, {name.split(' (')[0]} vs {duck}", f"{scaling['mb']/med[name]:.0f} MB/s",
                                f"{scaling['mb']/med[duck]:.0f} MB/s", med[duck] / med[name], "≥ 1.2×", med[duck] / med[name] >= 1.2))

    read = load("read.json")
    if read:
        one = next(r for r in read["rows"] if "one GET stream" in r["tool"])
        for r in read["rows"]:
            if r is not one:
                rows.append(row(f"read of one large object: {r['tool'].split(', ', 1)[-1]} vs one GET stream", f"{r['mb_s']:.0f} MB/s",
                                f"{one['mb_s']:.0f} MB/s", r["ratio"], "(item 3: measured; opt-in)", True))

    lam = load("lambda.json")
    if lam:
        fn = next(v for k, v in lam["cases"].items() if k.startswith("ingest function"))
        cli = next(v for k, v in lam["cases"].items() if k.startswith("floe CLI"))
        rows.append(row(f"peak RSS, ingest function binary (Lambda Runtime API), CSV {lam['mb']:.0f} MB, unpartitioned",
                        f"{fn['rss_mib']:.0f} MiB", f"floe CLI {cli['rss_mib']:.0f} MiB", fn["rss_mib"] / cli["rss_mib"],
                        f"≤ {MIB_BOUND} MiB", fn["rss_mib"] <= MIB_BOUND))
        rows.append(row(f"ingest function binary vs floe CLI, CSV {lam['mb']:.0f} MB: seconds", f"{fn['secs']:.2f} s",
                        f"{cli['secs']:.2f} s", cli["secs"] / fn["secs"], "(measured)", True))

    commit = commit_figures()
    if commit:
        queue = next((v for k, v in commit.items() if k.startswith("queue") and "commits_s" in v), None)
        direct = next((v for k, v in commit.items() if k.startswith("direct")), None)
        e2e = next((v for k, v in commit.items() if "p50_ms" in v), None)
        if queue and direct:
            rows.append(row("commit: objects/s committed, queue batches vs direct commits", f"{queue['objects_s']:.0f} objects/s",
                            f"{direct['objects_s']:.1f} objects/s", queue["objects_s"] / direct["objects_s"], "(step 3)", True))
        if e2e:
            rows.append(row("commit: end-to-end latency per object (ingest + queued commit)", f"p50 {e2e['p50_ms']:.0f} ms, p95 {e2e['p95_ms']:.0f} ms",
                            "", None, "(step 3)", True))

    cold = load("coldstart.json") or {}
    for fn in ("ingest", "validate", "commit", "compact"):
        c = cold.get(fn)
        rows.append(row(f"cold start {fn}: process start -> first /next", f"{c['median_ms']:.1f} ms" if c else "not measured",
                        "", None, "≤ 15 ms", bool(c) and c["median_ms"] <= 15))
    zips = load("zips.json") or {}
    native = load("zips-native.json") or {}
    # The arm64 zips only when `make package` built them (cross builds: not part of the bench).
    for fn in ("ingest", "validate", "commit", "compact"):
        z = zips.get(fn)
        if z:
            rows.append(row(f"zip {fn} (arm64, make package)", f"{z/1e6:.1f} MB", "", None, "≤ 15 MB", z <= 15e6))
    # Same-run figures from the native release builds (x86-64, stripped, zip -9): every catalog +
    # SQL rules (the default) vs the smallest build (Glue only, no SQL rules engine).
    for fn in ("ingest", "validate", "commit", "compact"):
        full, small = native.get(fn), native.get(f"{fn}-glue-norules")
        if full and small:
            rows.append(row(f"zip {fn} (x86-64, this run): Glue only + no SQL rules vs default build",
                            f"{small/1e6:.1f} MB", f"{full/1e6:.1f} MB", small / full, "≤ 15 MB", small <= 15e6))
        elif full:
            rows.append(row(f"zip {fn} (x86-64, this run, default build)", f"{full/1e6:.1f} MB", "", None,
                            "≤ 15 MB", full <= 15e6))

    tag = (ingest or {}).get("tag", "?")
    lines = [f"Floe benchmark summary (ingest run {tag}; one core, baselines from the same run)", "",
             "| figure | Floe | baseline | Floe ÷ baseline | goal | met |", "|---|---:|---:|---:|---|:---:|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else ""
        lines.append(f"| {r['figure']} | {r['floe']} | {r['baseline']} | {ratio} | {r['goal']} | {'yes' if r['met'] else 'no'} |")
    save_results("summary", "\n".join(lines), rows)
    chart(ingest, load("compact-10000.json"), load("compact-10000-sort.json"), scaling, native)


def chart(ingest, compact, sort, scaling, native):
    """Six panels: ingest and compaction throughput, Floe's peak RSS against the bound, the
    multi-core scaling curve, sort compaction, and the zips against their goal."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib not installed: no chart)", file=sys.stderr)
        return
    fig, grid = plt.subplots(2, 3, figsize=(18, 10))
    axes = grid.flatten()
    if ingest:
        rs = [r for r in ingest["rows"] if r["nrows"] == ingest["rows"][0]["nrows"]]
        bars(axes[0], [short(r) for r in rs], [r["nrows"] / r["secs"] / 1e6 for r in rs],
             "Ingest, 2 M rows, one core (M rows/s)")
        rss = [r for r in ingest["rows"] if r["tool"].startswith("Floe")]
        bars(axes[2], [short(r) for r in rss], [r["rss_mib"] for r in rss], "Floe ingest peak RSS (MiB)")
        axes[2].axvline(MIB_BOUND, color="red", linestyle="--", label=f"{MIB_BOUND} MiB goal")
        axes[2].legend()
    for ax, c, title in ((axes[1], compact, "Compaction"), (axes[4], sort, "Sort compaction")):
        if c:
            names = [compaction_label(x["tool"]) for x in c["results"]]
            bars(ax, names, [c["rows"] / x["secs"] / 1e6 for x in c["results"]],
                 f"{title}, {c['files']} files -> one (M rows/s)")
    if scaling:
        med = {k: sorted(v)[len(v) // 2] for k, v in scaling["secs"].items()}
        for tool, marker in (("DuckDB", "s"), ("Floe", "o")):
            pts = sorted((2 if "2 cores" in name or "threads=2" in name else 1, scaling["mb"] / secs)
                         for name, secs in med.items() if name.startswith(tool) and "pipeline off" not in name)
            axes[3].plot([p[0] for p in pts], [p[1] for p in pts], marker=marker,
                         color="#1f77b4" if tool == "Floe" else "#999999", label=tool)
        axes[3].set_xticks([1, 2])
        axes[3].set_xlabel("cores")
        axes[3].set_title("Scaling, CSV unpartitioned (MB/s, median)")
        axes[3].legend()
    if native:
        names = sorted(native)
        bars(axes[5], names, [native[n] / 1e6 for n in names], "Function zips, x86-64, this run (MB)", floe=True)
        axes[5].axvline(15, color="red", linestyle="--", label="15 MB goal")
        axes[5].legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, "summary.png"), dpi=80)
    print(f"chart: {os.path.join(RESULTS, 'summary.png')}")


def compaction_label(tool):
    """A compaction tool's bar label, with where it reads (two DuckDB rows: S3 and local copies)."""
    name = tool.split(":")[0].split(" (")[0][:34]
    where = " S3 -> S3" if "S3 -> S3" in tool else " local" if "local -> local" in tool else ""
    return name + (where if name.startswith("DuckDB") else "")


def bars(ax, names, vals, title, floe=False):
    """Horizontal bars, Floe's blue (every bar when `floe`), baselines grey."""
    colors = ["#1f77b4" if floe or n.startswith("Floe") else "#999999" for n in names]
    ax.barh(names, vals, color=colors)
    ax.set_title(title)
    ax.invert_yaxis()


def short(r):
    tool = r["tool"]
    if tool.startswith("Floe"):
        part = tool.split(", ")[1]
        return f"Floe {r['case'].split(' ->')[0].replace('Iceberg', '')} {part}"
    return tool.split(" (")[0][:30]


if __name__ == "__main__":
    main()
