"""What the model sees for a request: the template's system message, relevant knowledge, the
session's history, then the request's own messages. And, once answered, what the session keeps.

Order of the messages built:
    [system: template text + the caller's leading system messages + knowledge note]
    [session history, trimmed oldest first to fit the context]
    [the request's messages]
Without a template, knowledge or history the request's messages pass through unchanged. Where the
model family's profile says so (small models), the knowledge note goes into the last user message
instead, so the model's own system line stays and the facts sit next to the question.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from autoglm_core.backends.base import ChatTokenizer, ModelInfo
from autoglm_core.errors import FailedPrecondition, InvalidArgument
from autoglm_core.generation.types import GenerationParams
from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.memory.sessions import SessionStore, check_session_id
from autoglm_core.prompts.engine import PromptEngine
from autoglm_core.prompts.profiles import FAMILY_PROFILES, GENERIC, PromptProfile, profile_for
from autoglm_core.telemetry import ATTR_TEMPLATE, SPAN_MEMORY_RETRIEVAL, SPAN_TEMPLATE, span

Message = dict[str, Any]
# Knowledge entries can be up to 1 MiB; only this much of each goes into a prompt.
KNOWLEDGE_CHARS_PER_ENTRY = 1500
KNOWLEDGE_NOTE = (
    "Notes from the user's knowledge base that may be relevant (use them when they help, and "
    "prefer them over guesses):"
)
# The same notes next to the question, for small models: short, the facts themselves.
KNOWLEDGE_NOTE_IN_TURN = "Notes:"


@dataclass(frozen=True)
class Recalled:
    """What memory returned for a request: past messages and relevant knowledge texts."""

    history: list[Message] = field(default_factory=list)
    knowledge: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Conversation:
    """The messages to render, the template used ("" for none) and the turn to store."""

    messages: list[Message]
    template: str = ""
    turn: list[Message] = field(default_factory=list)


class ConversationBuilder:
    """Applies the prompt engine and memory to requests. Every part is optional."""

    def __init__(
        self,
        prompts: PromptEngine | None = None,
        sessions: SessionStore | None = None,
        knowledge: KnowledgeStore | None = None,
        *,
        knowledge_top_k: int = 3,
        history_limit: int = 256,
        profiles: Sequence[tuple[str, PromptProfile]] = FAMILY_PROFILES,
    ) -> None:
        self.prompts = prompts
        # Model family -> how it is prompted (templates, thinking, where context goes).
        self.profiles = profiles
        self.sessions = sessions
        self.knowledge = knowledge
        self.knowledge_top_k = knowledge_top_k
        self.history_limit = history_limit

    def profile_for(self, info: ModelInfo) -> PromptProfile:
        return profile_for(info, self.profiles)

    def check(self, params: GenerationParams) -> None:
        """Field checks of the memory and template options, before any I/O."""
        if params.prompt_template:
            if self.prompts is None:
                raise InvalidArgument.one("prompt_template", "this server has no prompt templates")
            self.prompts.check(params.prompt_template)
        if params.session_id:
            check_session_id(params.session_id)
            if self.sessions is None:
                raise FailedPrecondition("this server keeps no sessions; leave session_id empty")

    async def recall(self, params: GenerationParams) -> Recalled:
        """Loads the session's history and the knowledge relevant to the request's last message."""
        self.check(params)
        with span(SPAN_MEMORY_RETRIEVAL) as retrieval:
            if params.session_id:
                history, knowledge = await asyncio.gather(self._history(params), self._knowledge(params))
            else:  # the common case needs no second task
                history, knowledge = [], await self._knowledge(params)
            retrieval.set_attribute("autoglm.memory.history_messages", len(history))
            retrieval.set_attribute("autoglm.memory.knowledge_entries", len(knowledge))
        return Recalled(history, knowledge)

    def build(
        self,
        params: GenerationParams,
        recalled: Recalled,
        tokenizer: ChatTokenizer,
        info: ModelInfo,
        *,
        enable_thinking: bool,
        profile: PromptProfile = GENERIC,
    ) -> Conversation:
        turn = [dict(m) for m in params.messages or [{"role": "user", "content": params.prompt or ""}]]
        lead = _leading_system(turn)
        rest = turn[len(lead) :]
        user_text = _last_user_text(rest)

        def count(messages: list[Message]) -> int:
            return len(tokenizer.encode(tokenizer.render_chat(messages, enable_thinking=enable_thinking)))

        budget = _budget(params, info)
        with span(SPAN_TEMPLATE) as templating:
            template = ""
            if self.prompts is not None:
                template = self.prompts.choose(
                    params.prompt_template, user_text, profile, caller_system=bool(lead)
                )
            templating.set_attribute(ATTR_TEMPLATE, template)
            knowledge = list(recalled.knowledge)
            head, tail = self._place(template, lead, knowledge, user_text, rest, profile)
            # Knowledge is a help, never a reason to refuse: the least relevant notes go until the
            # request fits (a prompt too long on its own is still refused, by the engine).
            while knowledge and count(head + tail) > budget:
                knowledge.pop()
                head, tail = self._place(template, lead, knowledge, user_text, rest, profile)
        history = fit_history(head, recalled.history, tail, count, tokenizer, budget)
        return Conversation(head + history + tail, template, rest)

    def _place(
        self,
        template: str,
        lead: list[Message],
        knowledge: list[str],
        user_text: str,
        rest: list[Message],
        profile: PromptProfile,
    ) -> tuple[list[Message], list[Message]]:
        """The head (system message) and the request's turns, with the knowledge notes where the
        model's profile wants them: in the system message, or in the last user turn."""
        if profile.context_in_user_turn and knowledge:
            turns = with_user_context(rest, _notes(KNOWLEDGE_NOTE_IN_TURN, knowledge))
            return self._head(template, lead, [], user_text), turns
        return self._head(template, lead, knowledge, user_text), rest

    async def remember(self, params: GenerationParams, conversation: Conversation, answer: str) -> None:
        """Appends the request's messages and the final answer to its session (if it has one)."""
        if not params.session_id or self.sessions is None:
            return
        turn = [*conversation.turn, {"role": "assistant", "content": answer.strip()}]
        await self.sessions.append(params.user_id, params.session_id, turn)

    async def _history(self, params: GenerationParams) -> list[Message]:
        if not params.session_id or self.sessions is None:
            return []
        return await self.sessions.history(params.user_id, params.session_id, self.history_limit)

    async def _knowledge(self, params: GenerationParams) -> list[str]:
        if self.knowledge is None or self.knowledge_top_k <= 0:
            return []
        query = params.prompt if params.prompt is not None else _last_user_text(params.messages or [])
        entries = await self.knowledge.relevant(params.user_id, query, self.knowledge_top_k)
        return [e.text for e in entries]

    def _head(
        self, template: str, lead: list[Message], knowledge: list[str], user_text: str
    ) -> list[Message]:
        if not template and not knowledge:
            return lead
        caller_system = "\n\n".join(str(m.get("content", "")) for m in lead).strip()
        parts = []
        if template and self.prompts is not None:
            parts.append(self.prompts.render(template, user_text=user_text, system=caller_system))
        elif caller_system:
            parts.append(caller_system)
        if knowledge:
            parts.append(_notes(KNOWLEDGE_NOTE, knowledge))
        return [{"role": "system", "content": "\n\n".join(parts)}]


def _notes(title: str, knowledge: list[str]) -> str:
    notes = "\n".join(f"- {text[:KNOWLEDGE_CHARS_PER_ENTRY]}" for text in knowledge)
    return f"{title}\n{notes}"


def with_user_context(messages: list[Message], context: str) -> list[Message]:
    """A copy of messages whose last user message ends with context (after a blank line)."""
    copied = [dict(m) for m in messages]
    for message in reversed(copied):
        if message.get("role") == "user":
            message["content"] = f"{message.get('content') or ''}\n\n{context}"
            break
    return copied


def fit_history(
    head: list[Message],
    history: list[Message],
    tail: list[Message],
    count: Callable[[list[Message]], int],
    tokenizer: ChatTokenizer,
    budget: int,
) -> list[Message]:
    """The newest part of history that fits `budget` prompt tokens with head and tail around it.

    Drops the oldest messages first, and then any leading non-user messages, so the kept history
    starts with a user turn. count(messages) is the exact rendered token count; per-message
    estimates (content tokens) only decide how many to drop before measuring again.
    """
    if not history:
        return []  # nothing to trim: the engine checks the prompt against the context itself
    kept = list(history)
    total = count(head + kept + tail)
    while kept and total > budget:
        excess = total - budget
        while kept and excess > 0:
            excess -= len(tokenizer.encode(str(kept.pop(0).get("content", "")))) + 1
        while kept and kept[0].get("role") != "user":
            kept.pop(0)
        total = count(head + kept + tail)
    return kept


def _budget(params: GenerationParams, info: ModelInfo) -> int:
    """Prompt tokens allowed: the context less room for the answer (at most half the context)."""
    reserve = params.max_new_tokens or info.default_sampling.max_new_tokens
    return info.context_length - min(reserve, info.context_length // 2)


def _leading_system(messages: list[Message]) -> list[Message]:
    lead = []
    for m in messages:
        if m.get("role") != "system":
            break
        lead.append(m)
    return lead


def _last_user_text(messages: list[Message]) -> str:
    for m in reversed(messages):
        if m.get("role") == "user":
            return str(m.get("content", ""))
    return ""
