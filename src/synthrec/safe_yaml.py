"""YAML for user files (configs, class lists): ``yaml.safe_load`` that refuses alias bombs."""
from __future__ import annotations

import yaml

from .errors import ConfigError

MAX_YAML_NODES = 100_000  # a config has hundreds of values; a class list of 20k names still fits


class _BoundedLoader(yaml.SafeLoader):
    """Refuses documents whose aliases expand beyond MAX_YAML_NODES values (a "billion laughs" alias bomb): the
    composed graph is small, but anything that walks the value (validation, error messages) would not be."""

    def compose_document(self):
        node = super().compose_document()
        sizes: dict[int, int] = {}

        def size(n) -> int:
            key = id(n)
            if key not in sizes:
                sizes[key] = 0  # a recursive alias counts once, and cannot loop here
                if isinstance(n, yaml.MappingNode):
                    total = 1 + sum(size(k) + size(v) for k, v in n.value)
                elif isinstance(n, yaml.SequenceNode):
                    total = 1 + sum(size(v) for v in n.value)
                else:
                    total = 1
                sizes[key] = min(total, MAX_YAML_NODES + 1)
            return sizes[key]

        if size(node) > MAX_YAML_NODES:
            raise ConfigError(f"the YAML expands to more than {MAX_YAML_NODES:,} values (aliases repeating aliases)",
                              "write the values out, or use fewer nested aliases")
        return node


def load_yaml_bounded(text: str):
    """``yaml.safe_load`` that refuses alias bombs (see _BoundedLoader)."""
    return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 -- a SafeLoader subclass
