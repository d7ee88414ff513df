"""``synthrec init [--template NAME] [--out FILE]``: a starting config, copied from the configs inside the package."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import friendly_errors

DEFAULT_TEMPLATE = "glyph_zeroshot"


def bundled_templates() -> dict[str, object]:
    """Template name -> the packaged YAML file (an importlib resource), for every config shipped in the package."""
    from importlib.resources import files

    folder = files("synthrec") / "configs"
    if not folder.is_dir():
        return {}
    import yaml

    out = {}
    for f in sorted(folder.iterdir(), key=lambda f: f.name):
        # Run configs only: the folder also holds the demo's own settings file, which is no run config.
        if f.name.endswith(".yaml") and "run_dir" in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}):
            out[f.name[:-5]] = f
    return out


@friendly_errors
def init_command(
        template: str = typer.Option(DEFAULT_TEMPLATE, "--template", "-t", metavar="NAME",
                                     help="which bundled config to start from (--list shows them)"),
        out: Optional[Path] = typer.Option(None, "--out", "-o", metavar="FILE",
                                           help="where to write it; default: NAME.yaml in this folder"),
        list_: bool = typer.Option(False, "--list", help="list the bundled configs and exit"),
        force: bool = typer.Option(False, "--force", help="replace an existing file")):
    """Write a starting config from one of the configs bundled with synthrec."""
    from .. import _io
    from ..errors import ConfigError

    templates = bundled_templates()
    if list_:
        for name, resource in templates.items():
            first = resource.read_text(encoding="utf-8").splitlines()[:1]
            summary = first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""
            typer.echo(f"{name:<20} {summary}"[:200])
        return
    if template not in templates:
        raise ConfigError(f"no bundled config named {template!r}",
                          f"use one of: {', '.join(templates) or '(none installed)'}")
    out = out or Path(f"{template}.yaml")
    if out.exists() and not force:
        raise ConfigError(f"{out} already exists", "choose another --out, or pass --force to replace it")
    _io.write_text(out, templates[template].read_text(encoding="utf-8"))
    typer.echo(str(out))
    typer.echo(f"wrote {out} from the bundled {template!r} config; next: synthrec check {out}", err=True)


def register(app: typer.Typer) -> None:
    app.command(name="init")(init_command)
