"""Training curves of pre-training runs as one PNG (loss and learning rate per epoch)."""
from __future__ import annotations

from pathlib import Path

from .. import _io


def plot_history(curves: dict[str, list[dict]], path: Path, title: str = "pre-training") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (loss_ax, lr_ax) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, history in curves.items():
        epochs = [h["epoch"] for h in history]
        loss_ax.plot(epochs, [h.get("loss") for h in history], marker="o", label=name)
        lr_ax.plot(epochs, [h["lr"] for h in history], marker=".", label=name)
    loss_ax.set(title=f"{title}: training loss", xlabel="epoch")
    lr_ax.set(title="learning rate at the epoch's end", xlabel="epoch", yscale="log")
    loss_ax.legend(fontsize=7)
    fig.tight_layout()
    with _io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return path
