"""The prompt engine: picks a task template for a request and renders its system message.

Templates are Jinja2 files in templates/ (one per task; names starting with "_" are partials).
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from autoglm_core.errors import InvalidArgument
from autoglm_core.prompts.classifier import CHAT, classify, language_of

TEMPLATE_DIR = Path(__file__).parent / "templates"
AUTO = "auto"  # classify each request
NONE = "none"  # no template: messages go to the model as given


class PromptEngine:
    """`default` is what a request without prompt_template gets: auto, none or a template name."""

    def __init__(self, default: str = AUTO, directory: Path = TEMPLATE_DIR) -> None:
        # Plain text, not HTML: no autoescaping. StrictUndefined turns a typo into an error.
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            # The templates ship with the package: no stat() per request to look for edits.
            auto_reload=False,
        )
        self.names = sorted(p.stem for p in directory.glob("*.j2") if not p.name.startswith("_"))
        if default not in (AUTO, NONE, *self.names):
            raise ValueError(f"default prompt template {default!r} is not auto, none or one of {self.names}")
        self.default = default

    def check(self, requested: str, field: str = "prompt_template") -> None:
        """Raises InvalidArgument unless requested is empty, auto, none or a known template."""
        if requested and requested not in (AUTO, NONE, *self.names):
            raise InvalidArgument.one(
                field, f"unknown template {requested!r}; known: {', '.join([AUTO, NONE, *self.names])}"
            )

    def choose(self, requested: str, user_text: str) -> str:
        """The template for a request ("" for none): the request's choice, else the default."""
        self.check(requested)
        choice = requested or self.default
        if choice == NONE:
            return ""
        if choice == AUTO:
            task = classify(user_text)
            return task if task in self.names else CHAT
        return choice

    def render(self, name: str, *, user_text: str, system: str = "") -> str:
        """The system message of template `name` for a request whose user wrote user_text."""
        template = self._env.get_template(f"{name}.j2")
        return template.render(system=system, language=language_of(user_text), task=name).strip()
