#!/usr/bin/env python3
"""One table over bench/run.sh's runs (plain, HTTPS, htpasswd) with the issue's
targets, and the ratios Berth / reference as a PNG chart.

    report.py --out bench/out --modes plain https htpasswd

reads OUT/<mode>/results.json (written by bench.py) and writes
OUT/summary.md, OUT/summary.json and OUT/ratios.png. A mode without results
is left out; the chart needs matplotlib (bench/requirements.txt).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# (metric key, figure, target ratio berth/reference or None) per run, in the
# order of the table. Targets are the ones of the issue ("speed, round two").
FIGURES = {
    "plain": [
        ("down1g", "1 GiB download", 2.0),
        ("pardown", "8 parallel 64 MiB downloads", 2.0),
        ("up1g", "1 GiB upload (durable)", 2.0),
        ("chunked", "256 MiB in 8 MiB PATCHes", 1.5),
        ("parup", "8 parallel 64 MiB uploads", 1.5),
        ("head_blob", "HEAD blob, 64 connections", 20.0),
        ("get_manifest", "GET manifest", 20.0),
        ("get_small_blob", "GET 1 KiB blob", 20.0),
    ],
    "https": [
        ("up1g", "1 GiB upload", 1.2),
        ("down1g", "1 GiB download", 1.2),
        ("parup", "8 parallel uploads", None),
        ("pardown", "8 parallel downloads", None),
        ("head_blob", "HEAD blob (keep-alive)", 10.0),
        ("get_manifest", "GET manifest", None),
        ("get_small_blob", "GET 1 KiB blob", None),
    ],
    "htpasswd": [
        ("head_blob", "HEAD blob", 20.0),
        ("get_manifest", "GET manifest", None),
        ("get_small_blob", "GET 1 KiB blob", None),
        ("down1g", "1 GiB download", None),
        ("up1g", "1 GiB upload", None),
    ],
    # Issue 12's targets: Berth on PostgreSQL + S3, Distribution on S3, one Ceph RGW.
    "s3": [
        ("up1g", "monolithic upload", 1.5),
        ("chunked", "upload in 8 MiB PATCHes", 2.0),
        ("down1g", "download, streamed", 1.0),
        ("parup", "8 parallel uploads", None),
        ("pardown", "8 parallel downloads, streamed", None),
        ("head_blob", "HEAD blob, 64 connections", 20.0),
        ("get_manifest", "GET manifest", 20.0),
        ("get_small_blob", "GET 1 KiB blob, streamed", 20.0),
        ("get_tags", "GET tag list", 20.0),
    ],
    "s3redirect": [
        ("down1g", "download, redirected to the bucket", None),
        ("pardown", "8 parallel downloads, redirected", None),
        ("get_manifest", "GET manifest", 20.0),
        ("get_tags", "GET tag list", 20.0),
    ],
}
TITLES = {"plain": "plain HTTP, no auth", "https": "HTTPS (same ECDSA certificate)",
          "htpasswd": "htpasswd (same bcrypt file, plain HTTP)",
          "s3": "blobs in S3 (one Ceph RGW), Berth's index in PostgreSQL; blob GETs streamed",
          "s3redirect": "as s3, blob GETs answered with 307 to a presigned URL"}
RSS_LIMIT_MIB = 48.0
# Per node on PostgreSQL + S3 (issue 12).
RSS_LIMITS_MIB = {"s3": 96.0, "s3redirect": 96.0}


def load(out: Path, mode: str) -> dict | None:
    path = out / mode / "results.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {m["key"]: m for m in data["metrics"]}


def fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "ERR"
    if unit in ("req/s", "MiB/s"):
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def rows(out: Path, modes: list[str]) -> list[dict]:
    result = []
    for mode in modes:
        metrics = load(out, mode)
        if metrics is None:
            continue
        for key, figure, target in FIGURES.get(mode, []):
            m = metrics.get(key)
            if m is None:
                continue
            b, r = m["values"].get("berth"), m["values"].get("reference")
            ratio = b / r if b is not None and r else None
            result.append({"mode": mode, "key": key, "figure": figure, "unit": m["unit"], "berth": b,
                           "reference": r, "ratio": ratio, "target": target,
                           "met": None if target is None or ratio is None else ratio >= target})
        m = metrics.get("rss_hwm")
        if m is not None:
            b, r = m["values"].get("berth"), m["values"].get("reference")
            limit = RSS_LIMITS_MIB.get(mode, RSS_LIMIT_MIB)
            result.append({"mode": mode, "key": "rss_hwm", "figure": "peak RSS over the run (VmHWM)",
                           "unit": "MiB", "berth": b, "reference": r, "ratio": None,
                           "target": limit, "met": None if b is None else b <= limit})
    return result


def markdown(table: list[dict]) -> str:
    lines = ["| run | figure | unit | Berth | Distribution 2.8 | ratio | target | met |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for row in table:
        if row["key"] == "rss_hwm":
            target = f"≤ {row['target']:.0f} MiB"
            ratio = "-"
        else:
            target = "-" if row["target"] is None else f"≥ {row['target']:g}x"
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        met = {True: "yes", False: "**no**", None: ""}[row["met"]]
        lines.append(f"| {row['mode']} | {row['figure']} | {row['unit']} | {fmt(row['berth'], row['unit'])} | "
                     f"{fmt(row['reference'], row['unit'])} | {ratio} | {target} | {met} |")
    return "\n".join(lines)


def chart(table: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [r for r in table if r["ratio"] is not None]
    if not bars:
        return
    colors = {"plain": "#4c72b0", "https": "#dd8452", "htpasswd": "#55a868"}
    labels = [f"{r['mode']}: {r['figure']}" for r in bars]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(bars) + 1.2), dpi=80)
    y = list(range(len(bars)))[::-1]
    ax.barh(y, [r["ratio"] for r in bars], color=[colors.get(r["mode"], "#888") for r in bars])
    for yi, r in zip(y, bars):
        if r["target"]:
            ax.plot([r["target"]] * 2, [yi - 0.4, yi + 0.4], color="black", linewidth=1.5)
        ax.text(r["ratio"] * 1.04, yi, f"{r['ratio']:.2f}x", va="center", fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("Berth / Distribution 2.8 (log scale; black tick: target, dashed: parity)", fontsize=8)
    ax.set_title("Berth vs the reference registry, same machine, same run", fontsize=9)
    ax.tick_params(axis="x", labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--modes", nargs="+", default=["plain", "https", "htpasswd"])
    args = p.parse_args()
    table = rows(args.out, args.modes)
    if not table:
        print("report: no results", file=sys.stderr)
        return 1
    md = markdown(table)
    print()
    print(md)
    (args.out / "summary.md").write_text(
        "# Berth vs Distribution 2.8\n\n" + "\n".join(f"- {m}: {TITLES.get(m, m)}" for m in args.modes)
        + "\n\n" + md + "\n\n![ratios](ratios.png)\n")
    (args.out / "summary.json").write_text(json.dumps({"rows": table}, indent=2))
    try:
        chart(table, args.out / "ratios.png")
    except ImportError:
        print("report: matplotlib is missing (pip install -r bench/requirements.txt); no chart", file=sys.stderr)
        return 1
    print(f"\nwrote {args.out / 'summary.md'}, summary.json, ratios.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
