"""Scaling plot: CPU time against corpus size for wf, Entangled and the floors.

plot.py RESULTS.json OUT.png     (run with the bench's matplotlib venv)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # after choosing the backend

PANELS = (
    ("clean build", ("wf clean build", "entangled clean build", "floor parse+write")),
    (
        "no-op",
        (
            "wf first no-op build",
            "wf no-op build",
            "wf no-op verify",
            "entangled no-op",
            "floor parse",
            "floor hash",
        ),
    ),
    ("one document edited", ("wf edit build", "entangled edit build")),
)
STYLE = {"wf": "-", "entangled": "--", "floor": ":"}


def main(results: Path, out: Path) -> None:
    data = json.loads(results.read_text(encoding="utf-8"))
    sizes = data["sizes"]
    docs = [int(label.split("x")[0]) for label in sizes]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(15, 4.8), sharey=True)
    for ax, (title, measures) in zip(axes, PANELS, strict=True):
        for measure in measures:
            values = [statistics.median(s["cpu"] for s in sizes[label][measure]) for label in sizes]
            ax.plot(docs, values, STYLE[measure.split()[0]], marker="o", label=measure)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("documents (10 blocks x 20 lines each)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("CPU seconds (median)")
    fig.suptitle(f"wf vs Entangled and the floors — {data['meta']['date']}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
