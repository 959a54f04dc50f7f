"""The engine's message building: templates, knowledge and session history around a request."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

import pytest

from autoglm_core.backends.base import BackendRequest, TokenChunk
from autoglm_core.backends.mock import MockBackend, MockBehaviour
from autoglm_core.errors import FailedPrecondition, InvalidArgument
from autoglm_core.generation.conversation import ConversationBuilder, fit_history
from autoglm_core.generation.engine import Engine
from autoglm_core.generation.types import GenerationParams
from autoglm_core.memory.knowledge import KnowledgeStore
from autoglm_core.memory.sessions import SessionStore
from autoglm_core.prompts.engine import PromptEngine
from autoglm_core.registry.models import ModelRegistry
from autoglm_core.storage.database import Database
from tests.unit.db_support import DATABASES, fresh_database


class RecordingBackend(MockBackend):
    """The mock backend, remembering each prompt as text."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.prompts: list[str] = []

    def generate(self, request: BackendRequest) -> AsyncGenerator[TokenChunk, None]:
        self.prompts.append(self.tokenizer.decode(request.prompt_ids))
        return super().generate(request)


async def _engine(backend: MockBackend, builder: ConversationBuilder | None) -> Engine:
    await backend.load()
    registry = ModelRegistry()
    registry.add(backend)
    return Engine(registry, conversation=builder)


@pytest.fixture(params=DATABASES)
async def database(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    db = fresh_database(tmp_path, request.param)
    yield db
    db.close()


def _builder(database: Database, default_template: str = "auto") -> ConversationBuilder:
    return ConversationBuilder(
        PromptEngine(default=default_template),
        SessionStore(database),
        KnowledgeStore(database, embedder=None),
        knowledge_top_k=2,
    )


async def test_without_a_builder_messages_pass_through() -> None:
    backend = RecordingBackend()
    engine = await _engine(backend, None)
    result = await engine.generate(GenerationParams(prompt="What is 2+2?", max_new_tokens=3))
    assert backend.prompts == ["<|user|>What is 2+2?\n<|assistant|>"]
    assert result.finished.prompt_template == ""
    with pytest.raises(InvalidArgument) as caught:
        await engine.generate(GenerationParams(prompt="x", prompt_template="qa"))
    assert caught.value.violations[0].field == "prompt_template"
    with pytest.raises(FailedPrecondition):
        await engine.generate(GenerationParams(prompt="x", session_id="s"))


async def test_template_is_chosen_rendered_and_reported(database: Database) -> None:
    backend = RecordingBackend()
    engine = await _engine(backend, _builder(database))
    result = await engine.generate(
        GenerationParams(prompt="What is the capital of France?", max_new_tokens=3)
    )
    assert result.finished.prompt_template == "qa"
    assert backend.prompts[-1].startswith("<|system|>You are AutoGLM")
    assert "Answer the user's question" in backend.prompts[-1]
    messages = [{"role": "system", "content": "Talk like a pirate."}, {"role": "user", "content": "hi"}]
    result = await engine.generate(GenerationParams(messages=messages, prompt_template="code"))
    assert result.finished.prompt_template == "code"
    assert backend.prompts[-1].count("<|system|>") == 1  # the caller's system text is merged in
    assert "expert programmer" in backend.prompts[-1] and "Talk like a pirate." in backend.prompts[-1]
    result = await engine.generate(GenerationParams(messages=messages, prompt_template="none"))
    assert backend.prompts[-1].startswith("<|system|>Talk like a pirate.\n<|user|>hi")
    assert result.finished.prompt_template == ""


async def test_session_continues_and_stores_the_turns(database: Database) -> None:
    backend = RecordingBackend(behaviour=MockBehaviour(script=["Paris.", "About 2.1 million."]))
    builder = _builder(database)
    engine = await _engine(backend, builder)
    first = await engine.generate(GenerationParams(prompt="Capital of France?", session_id="trip"))
    second = await engine.generate(GenerationParams(prompt="How many people live there?", session_id="trip"))
    assert second.finished.usage.prompt_tokens > first.finished.usage.prompt_tokens
    assert "<|user|>Capital of France?\n<|assistant|>Paris.\n<|user|>How many people" in backend.prompts[-1]
    assert builder.sessions is not None
    stored = await builder.sessions.history("", "trip")
    assert stored == [
        {"role": "user", "content": "Capital of France?"},
        {"role": "assistant", "content": "Paris."},
        {"role": "user", "content": "How many people live there?"},
        {"role": "assistant", "content": "About 2.1 million."},
    ]
    # Another user's session of the same id is a different session.
    await engine.generate(GenerationParams(prompt="hello", session_id="trip", user_id="bob"))
    assert "Paris" not in backend.prompts[-1]


async def test_history_is_trimmed_oldest_first_keeping_the_system_message(database: Database) -> None:
    backend = RecordingBackend(context_length=700, behaviour=MockBehaviour(script=["ok " * 20]))
    builder = _builder(database)
    engine = await _engine(backend, builder)
    for i in range(12):
        result = await engine.generate(
            GenerationParams(prompt=f"message {i:02d} " + "x" * 40, session_id="long", max_new_tokens=100)
        )
        assert result.finished.usage.prompt_tokens <= 700 - 100
    last = backend.prompts[-1]
    assert last.startswith("<|system|>You are AutoGLM")
    assert "message 00" not in last and "message 10" in last and "message 11" in last
    history_start = last.index("<|user|>")
    assert "<|assistant|>" not in last[last.index("<|system|>") : history_start]
    assert builder.sessions is not None
    assert len(await builder.sessions.history("", "long")) == 24  # storage keeps everything


def test_fit_history_drops_leading_assistant_messages() -> None:
    backend = MockBackend()
    tokenizer = backend.tokenizer

    def count(messages: list[dict[str, str]]) -> int:
        return len(tokenizer.encode(tokenizer.render_chat(messages, enable_thinking=False)))

    history = [
        {"role": "user", "content": "a" * 50},
        {"role": "assistant", "content": "b" * 50},
        {"role": "user", "content": "c" * 50},
        {"role": "assistant", "content": "d" * 50},
    ]
    tail = [{"role": "user", "content": "now"}]
    full = count(history + tail)
    assert fit_history([], history, tail, count, tokenizer, full) == history
    kept = fit_history([], history, tail, count, tokenizer, full - 10)
    assert kept == history[2:]
    assert fit_history([], history, tail, count, tokenizer, 5) == []


async def test_relevant_knowledge_is_added_for_its_owner_only(database: Database) -> None:
    backend = RecordingBackend()
    builder = _builder(database)
    engine = await _engine(backend, builder)
    assert builder.knowledge is not None
    await builder.knowledge.add("alice", "Alice's cat is named Mochi and is four years old.")
    await builder.knowledge.add("alice", "Alice works as a marine biologist.")
    await engine.generate(GenerationParams(prompt="What is the name of my cat?", user_id="alice"))
    assert "knowledge base" in backend.prompts[-1] and "Mochi" in backend.prompts[-1]
    assert "marine biologist" not in backend.prompts[-1]  # below the relevance threshold
    await engine.generate(GenerationParams(prompt="What is the name of my cat?", user_id="bob"))
    assert "Mochi" not in backend.prompts[-1]


async def test_small_model_profile_keeps_its_own_prompt_and_puts_knowledge_by_the_question(
    database: Database,
) -> None:
    """A SmolLM2-family model: no template under the default, knowledge in the user's turn (so the
    chat template's own system line stays), and the session stores the turn as the user wrote it."""
    backend = RecordingBackend(name="smollm2-135m-instruct", supports_thinking=False)
    builder = _builder(database, default_template="profile")
    engine = await _engine(backend, builder)
    assert builder.knowledge is not None
    await builder.knowledge.add("alice", "Alice's cat is named Mochi and is four years old.")
    result = await engine.generate(
        GenerationParams(prompt="What is the name of my cat?", user_id="alice", session_id="pets")
    )
    assert result.finished.prompt_template == ""
    assert backend.prompts[-1].startswith("<|user|>What is the name of my cat?\n\nNotes:\n- Alice's cat")
    assert builder.sessions is not None
    stored = await builder.sessions.history("alice", "pets")
    assert stored[0] == {"role": "user", "content": "What is the name of my cat?"}
    # Thinking asked of a model without a native mode: no instruction added, said in the response.
    thinking = await engine.generate(GenerationParams(prompt="Why is the sky blue?", thinking=True))
    assert backend.prompts[-1] == "<|user|>Why is the sky blue?\n<|assistant|>"
    assert thinking.finished.thinking == "unsupported" and thinking.reasoning == ""
    assert "does not think natively" in str(thinking)
    # A caller's system message is used as given.
    messages = [{"role": "system", "content": "Talk like a pirate."}, {"role": "user", "content": "hi"}]
    await engine.generate(GenerationParams(messages=messages))
    assert backend.prompts[-1].startswith("<|system|>Talk like a pirate.\n<|user|>hi")
