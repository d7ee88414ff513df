"""The label space: ordered class names, the one list every stage reads.

The authors' code kept class lists in four places that disagreed (METHOD.md §8.2). Here a run has exactly one
``labels.json``; stages address classes by integer id, and a class name becomes a folder name only through
:func:`safe_dirname`.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from . import _io
from .errors import LabelSpaceError

SLOT = "{c}"
DEFAULT_TEMPLATE = "a photo of a {c}."  # CLIP's prompt: the default of the basic prompts, the head and the filter


def fill_template(template: str, classname: str) -> str:
    """The one template filler: ``{c}`` becomes the class name. str.replace, not str.format: templates may hold
    other braces (``{domain}``), and class names may too."""
    return template.replace(SLOT, classname)


@dataclass(frozen=True)
class LabelSpace:
    """Ordered class names plus optional synonyms and a domain phrase ("a centered satellite photo of")."""

    names: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...] = ()
    domain: str | None = None
    source: str = "inline"

    def __post_init__(self):
        validate_class_names(self.names)
        if self.synonyms and len(self.synonyms) != len(self.names):
            raise LabelSpaceError(f"{len(self.synonyms)} synonym lists for {len(self.names)} classes",
                                  "give one synonym list per class, or none")

    @classmethod
    def from_names(cls, names: Iterable[str], **kw) -> "LabelSpace":
        return cls(names=tuple(names), **kw)

    @classmethod
    def from_file(cls, path: str | Path, **kw) -> "LabelSpace":
        """A text file (one class per line; blank lines and # comments skipped), or YAML/JSON with ``classes``."""
        path = Path(path)
        if not path.is_file():
            raise LabelSpaceError(f"class list file {str(path)!r} does not exist",
                                  "pass an existing text file with one class name per line")
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LabelSpaceError(f"class list file {str(path)!r} is not UTF-8 text (byte {exc.start} cannot be "
                                  "decoded)", "save it as UTF-8") from None
        if path.suffix.lower() in {".yaml", ".yml", ".json"}:
            import yaml

            from .safe_yaml import load_yaml_bounded

            try:
                data = load_yaml_bounded(text) or {}
            except yaml.YAMLError:
                raise LabelSpaceError(f"{path} is not valid YAML/JSON", "fix its syntax") from None
            if isinstance(data, list):
                data = {"classes": data}
            if isinstance(data, dict) and "names" in data and "classes" not in data:
                data = {"classes": data["names"], **{k: v for k, v in data.items() if k != "names"}}
            if not isinstance(data, dict) or not isinstance(data.get("classes"), list):
                raise LabelSpaceError(f"{path} has no 'classes' list", "write `classes: [cat, dog, ...]`")
            names = [str(c["name"] if isinstance(c, dict) else c) for c in data["classes"]]
            syn = tuple(tuple(c.get("synonyms", ())) if isinstance(c, dict) else () for c in data["classes"])
            kw.setdefault("domain", data.get("domain"))
            return cls(names=tuple(names), synonyms=syn if any(syn) else (), source=str(path), **kw)
        names = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
        return cls(names=tuple(names), source=str(path), **kw)

    @classmethod
    def from_image_folder(cls, root: str | Path, **kw) -> "LabelSpace":
        """Class names from the sub-folders of an ImageFolder, in sorted order (torchvision's convention)."""
        root = Path(root)
        if not root.is_dir():
            raise LabelSpaceError(f"image folder {str(root)!r} does not exist",
                                  "pass a folder with one sub-folder of images per class")
        names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        return cls(names=tuple(names), source=str(root), **kw)

    def __len__(self) -> int:
        return len(self.names)

    @property
    def folders(self) -> list[str]:
        return unique_dirnames(self.names)

    def to_json(self) -> dict:
        return {
            "classes": [
                {"id": i, "name": n, "folder": f, "synonyms": list(self.synonyms[i]) if self.synonyms else []}
                for i, (n, f) in enumerate(zip(self.names, self.folders))
            ],
            "domain": self.domain,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict) -> "LabelSpace":
        classes = data["classes"]
        syn = tuple(tuple(c.get("synonyms", ())) for c in classes)
        return cls(names=tuple(c["name"] for c in classes), synonyms=syn if any(syn) else (),
                   domain=data.get("domain"), source=data.get("source", "labels.json"))

    def save(self, path: str | Path) -> None:
        _io.write_json(path, self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> "LabelSpace":
        return cls.from_json(_io.read_json(path))


def validate_class_names(names: Sequence[str]) -> None:
    if not names:
        raise LabelSpaceError("the class list is empty", "give at least two class names")
    for i, n in enumerate(names):
        if not isinstance(n, str) or not n.strip():
            raise LabelSpaceError(f"class {i} has an empty name", "remove the blank entry or give it a name")
        if n != n.strip():
            raise LabelSpaceError(f"class name {n!r} has leading or trailing spaces", "strip the spaces")
        if set(n) <= {"."}:
            raise LabelSpaceError(f"class name {n!r} is only dots", "give the class a real name")
        if "\x00" in n or any(unicodedata.category(ch) == "Cc" for ch in n):
            raise LabelSpaceError(f"class name {n!r} contains control characters", "remove them")
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        key = n.casefold()
        if key in seen:
            raise LabelSpaceError(f"class name {n!r} appears twice (classes {seen[key]} and {i})",
                                  "make every class name unique")
        seen[key] = i
    if len(names) < 2:
        raise LabelSpaceError("the class list has one class", "a classifier needs at least two classes")


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_dirname(name: str, max_len: int = 80) -> str:
    """A file-system-safe folder name for a class: no separators, no '..', no leading dot, bounded length."""
    norm = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    s = _UNSAFE.sub("_", norm).strip("._-")
    s = re.sub(r"\.{2,}", ".", s)
    return (s or "class")[:max_len]


def unique_dirnames(names: Sequence[str]) -> list[str]:
    """Sanitised folder names with a numeric prefix, so that two names that sanitise alike never collide."""
    width = max(3, len(str(len(names) - 1)))
    return [f"{i:0{width}d}_{safe_dirname(n)}" for i, n in enumerate(names)]
