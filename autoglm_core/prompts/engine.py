"""The prompt engine: picks a task template for a request and renders its system message.

Templates are Jinja2 files in templates/ (one per task; names starting with "_" are partials).
A request names a template, "auto" (classify the request and use that task's template), "none", or
nothing: then the server's default applies, "profile" unless configured otherwise (the model
family's profile decides, see profiles.py).
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from autoglm_core.errors import InvalidArgument
from autoglm_core.prompts.classifier import CHAT, classify, language_of
from autoglm_core.prompts.profiles import GENERIC, PromptProfile

TEMPLATE_DIR = Path(__file__).parent / "templates"
AUTO = "auto"  # classify each request
NONE = "none"  # no template: messages go to the model as given
PROFILE = "profile"  # the model family's profile: only the task templates shown to help it


class PromptEngine:
    """`default` is what a request without prompt_template gets: profile, auto, none or a template."""

    def __init__(self, default: str = PROFILE, directory: Path = TEMPLATE_DIR) -> None:
        # Plain text, not HTML: no autoescaping. StrictUndefined turns a typo into an error.
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(directory),
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            # The templates ship with the package: no stat() per request to look for edits.
            auto_reload=False,
        )
        self.names = sorted(p.stem for p in directory.glob("*.j2") if not p.name.startswith("_"))
        if default not in (PROFILE, AUTO, NONE, *self.names):
            raise ValueError(
                f"default prompt template {default!r} is not profile, auto, none or one of {self.names}"
            )
        self.default = default

    def check(self, requested: str, field: str = "prompt_template") -> None:
        """Raises InvalidArgument unless requested is empty, profile, auto, none or a known template."""
        known = (PROFILE, AUTO, NONE, *self.names)
        if requested and requested not in known:
            raise InvalidArgument.one(field, f"unknown template {requested!r}; known: {', '.join(known)}")

    def choose(
        self,
        requested: str,
        user_text: str,
        profile: PromptProfile = GENERIC,
        *,
        caller_system: bool = False,
    ) -> str:
        """The template for a request ("" for none): the request's choice, else the default.

        Under the profile default a caller's own system message wins (nothing is added), and a
        task's template is used only where the profile lists it."""
        self.check(requested)
        choice = requested or self.default
        if choice == NONE:
            return ""
        if choice == PROFILE:
            task = classify(user_text)
            return task if task in profile.tasks and task in self.names and not caller_system else ""
        if choice == AUTO:
            task = classify(user_text)
            return task if task in self.names else CHAT
        return choice

    def render(self, name: str, *, user_text: str, system: str = "") -> str:
        """The system message of template `name` for a request whose user wrote user_text."""
        template = self._env.get_template(f"{name}.j2")
        return template.render(system=system, language=language_of(user_text), task=name).strip()
