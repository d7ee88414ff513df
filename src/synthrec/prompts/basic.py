"""The paper's Basic strategy (METHOD.md §2.3.1): one prompt per class from one template.

Repeating the prompt ``per_class`` times would add nothing: the generator already makes ``images_per_prompt``
images of each prompt with distinct seeds.
"""
from __future__ import annotations

from ..errors import ConfigError
# DEFAULT_TEMPLATE is the schema's default; a label space with domain words replaces it (see basic_template).
from ..labels import DEFAULT_TEMPLATE, LabelSpace, fill_template


def basic_template(template: str, domain: str | None) -> str:
    """The template to use, with the label space's domain words applied.

    ``{domain}`` in a template is replaced by the domain words. A label space with domain words ("a centered
    satellite photo of") and the default template gives "<domain> {c}.", the paper's domain prompts; compared by
    value, not by "was it set", so a stored and reloaded config gives the same prompts.
    """
    if "{domain}" in template:
        if not domain:
            raise ConfigError(f"prompts.template {template!r} has a {{domain}} slot but the labels have no domain",
                              'set labels.domain (e.g. "a centered satellite photo of") or drop {domain}')
        template = template.replace("{domain}", domain.strip())
    elif domain and template == DEFAULT_TEMPLATE:
        template = f"{domain.strip()} {{c}}."
    if "{c}" not in template:
        raise ConfigError(f"prompts.template {template!r} has no {{c}} slot for the class name",
                          'write the class position as {c}, e.g. "a photo of a {c}."')
    return template


def basic_prompt(name: str, template: str, domain: str | None) -> str:
    return fill_template(basic_template(template, domain), name)


def basic_strategy(labels: LabelSpace, cfg, seed: int, device: str) -> list[list[str]]:
    template = basic_template(cfg.template, labels.domain)
    return [[fill_template(template, name)] for name in labels.names]
