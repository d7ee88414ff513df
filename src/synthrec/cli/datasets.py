"""``synthrec datasets``: what synthrec knows about the paper's benchmark datasets, without touching their files."""
from __future__ import annotations

from typing import Optional

import typer

from .common import friendly_errors as _one_line_errors

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="The paper's benchmark datasets: class names, prompts, splits, and where their files go.")


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _download_label(info) -> str:
    if info.source == "builtin":
        return "built in"
    if not info.downloadable:
        return "no"
    return "yes + split file" if info.extra_files else "yes"


@app.command("list")
@_one_line_errors
def list_command(pattern: str = typer.Argument("*", help="only names matching this pattern, e.g. 'imagenet*'"),
                 setting: Optional[str] = typer.Option(None, "--setting", help="zero-shot or few-shot")):
    """One line per dataset: name, classes, settings, and whether --download can fetch it."""
    from rich import box
    from rich.table import Table

    from ..datasets import get_dataset_info, list_datasets

    names = list_datasets(pattern, setting=setting)
    # Sized for an 80-column terminal: names never cut, the title (the only long free text) last and shortened;
    # `synthrec datasets show NAME` has the rest.
    rows = []
    for name in names:
        info = get_dataset_info(name)
        settings = [s for s in ("zero-shot", "few-shot") if s in info.settings]
        rows.append((name, str(info.num_classes), "both" if len(settings) == 2 else "".join(settings),
                     info.test_split, _download_label(info).replace(" + split file", "+file"), info.title))
    table = Table(title=f"{len(names)} datasets", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for i, (header, justify) in enumerate([("name", "left"), ("classes", "right"), ("setting", "left"),
                                           ("test", "left"), ("download", "left")]):
        width = max([len(header)] + [len(r[i]) for r in rows])
        table.add_column(header, justify=justify, no_wrap=True, min_width=width)
    table.add_column("title", no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    _console().print(table)


@app.command("show")
@_one_line_errors
def show_command(name: str = typer.Argument(..., help="a dataset name from `synthrec datasets list`"),
                 names: bool = typer.Option(True, "--names/--no-names", help="list every class name")):
    """Class names, prompts, split sizes (where known) and the file layout of NAME."""
    from rich.table import Table

    from ..datasets import get_dataset_info
    from ..datasets.info import TASKS

    info = get_dataset_info(name)
    out = _console()
    out.print(f"[bold]{info.name}[/bold]: {info.title}")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", no_wrap=True)
    facts.add_column()
    facts.add_row("task", f"{info.task} ({TASKS[info.task]}), domain: {info.domain}")
    facts.add_row("settings", ", ".join(s for s in ("zero-shot", "few-shot") if s in info.settings))
    facts.add_row("classes", str(info.num_classes))
    facts.add_row("source", info.source)
    facts.add_row("download", _download_label(info))
    facts.add_row("layout", info.layout)
    for f in info.extra_files:
        facts.add_row("needs", f"<root>/{f} (put it there by hand)")
    if info.paper:
        facts.add_row("paper top-1", ", ".join(f"{k} {v:.2f}" for k, v in info.paper.items()))
    if info.notes:
        facts.add_row("notes", info.notes)
    out.print(facts)

    splits = Table(title="splits", title_justify="left")
    splits.add_column("split", no_wrap=True)
    splits.add_column("images", justify="right")
    splits.add_column("role")
    for split in info.splits:
        role = []
        if split == info.test_split:
            role.append("test (evaluation)")
        if split == info.fewshot_train_split:
            role.append("few-shot train (shots drawn here)")
        size = info.split_sizes.get(split)
        splits.add_row(split, f"{size:,}" if size is not None else "?", ", ".join(role))
    out.print(splits)

    out.print("[bold]simple prompts[/bold] (the paper's)")
    for t in info.simple_templates:
        out.print(f"  {t}", markup=False)
    if info.head_templates != info.simple_templates:
        out.print(f"[bold]zero-shot head prompts[/bold] ({len(info.head_templates)}; see notes)")
        for t in info.head_templates:
            out.print(f"  {t}", markup=False)
    out.print(f"[bold]LE prefix[/bold] (before each Language Enhancement sentence): {info.le_prefix}", markup=False)
    out.print(f"[bold]CLIP prompt ensemble[/bold] ({len(info.clip_templates)})")
    for t in info.clip_templates:
        out.print(f"  {t}", markup=False)

    if names:
        show_keys = info.class_keys != info.classnames
        classes = Table(title=f"classes ({info.num_classes}, in label order)", title_justify="left")
        classes.add_column("id", justify="right")
        classes.add_column("name", no_wrap=True)
        if show_keys:
            classes.add_column("dataset's own id (folder / file entry)", no_wrap=True)
        for i, (key, cname) in enumerate(zip(info.class_keys, info.classnames)):
            classes.add_row(str(i), cname, key) if show_keys else classes.add_row(str(i), cname)
        out.print(classes)


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="datasets", help="The paper's benchmark datasets: list, show.")
