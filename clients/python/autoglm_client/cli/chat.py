"""`autoglm chat`: a conversation in the terminal, kept in a server-side session.

Answers stream in; reasoning is shown dimmed (or hidden with --hide-reasoning); tool calls are shown
as they start and finish. Ctrl-C cancels the answer in flight (the server stops generating) and
keeps the chat; Ctrl-D or /bye ends it. With stdin not a terminal, the whole input is one question.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from dataclasses import dataclass, field
from typing import TextIO

from autoglm.v1 import generation_pb2
from autoglm_client import errors
from autoglm_client.cli.common import connect
from autoglm_client.client import AutoGLMClient

DIM, RESET = "\x1b[2m", "\x1b[0m"
MULTILINE = '"""'
HELP = """commands:
  /reset              forget the conversation (deletes the server-side session)
  /thinking on|off    thinking mode
  /tools              list the tools; /tools NAME... lets the model use them; /tools off
  /help               this text
  /bye                leave (or Ctrl-D)
multi-line input: start and end it with \"\"\"; Ctrl-C cancels an answer in flight"""


@dataclass
class ChatState:
    model: str
    session_id: str
    thinking: bool
    show_reasoning: bool
    max_new_tokens: int | None
    tools: list[str] = field(default_factory=list)


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    chat = commands.add_parser("chat", parents=[common], help="chat with a model in the terminal")
    chat.add_argument(
        "model", nargs="?", default="", help="model alias or name@version [default: the server's]"
    )
    chat.add_argument("--session", default="", help="session id to continue [default: a new one]")
    chat.add_argument("--thinking", action="store_true", help="start with thinking mode on")
    chat.add_argument("--hide-reasoning", action="store_true", help="do not print the reasoning")
    chat.add_argument("--tools", nargs="*", default=[], metavar="NAME", help="tools the model may use")
    chat.add_argument("--max-new-tokens", type=int, default=None)
    chat.set_defaults(run=_chat)


def _chat(args: argparse.Namespace) -> int:
    state = ChatState(
        model=args.model,
        session_id=args.session or f"chat-{uuid.uuid4().hex[:12]}",
        thinking=args.thinking,
        show_reasoning=not args.hide_reasoning,
        max_new_tokens=args.max_new_tokens,
        tools=list(args.tools),
    )
    client = connect(args)
    if not sys.stdin.isatty():
        answer(client, state, sys.stdin.read().strip(), sys.stdout)
        return 0
    print(f"session {state.session_id}; /help for commands, Ctrl-D to leave", file=sys.stderr)
    while True:
        try:
            text = read_message()
        except EOFError:
            print(file=sys.stderr)
            return 0
        except KeyboardInterrupt:  # at the prompt: drop the line, stay in the chat
            print(file=sys.stderr)
            continue
        if text.startswith("/"):
            if not command(client, state, text):
                return 0
        elif text.strip():
            with contextlib.suppress(KeyboardInterrupt):  # answer() has cancelled the call
                answer(client, state, text, sys.stdout)


def read_message() -> str:
    """One line, or the lines between two \"\"\" markers."""
    line = input(">>> ")
    if not line.strip().startswith(MULTILINE):
        return line
    lines = [line.strip().removeprefix(MULTILINE)]
    while not lines[-1].rstrip().endswith(MULTILINE):
        lines.append(input("... "))
    lines[-1] = lines[-1].rstrip().removesuffix(MULTILINE)
    return "\n".join(lines).strip()


def command(client: AutoGLMClient, state: ChatState, text: str) -> bool:
    """Runs a /command; False when the chat should end."""
    name, _, rest = text.partition(" ")
    words = rest.split()
    if name in ("/bye", "/exit", "/quit"):
        return False
    if name == "/reset":
        with contextlib.suppress(errors.NotFound):  # nothing said yet
            client.delete_session(state.session_id)
        print("conversation forgotten", file=sys.stderr)
    elif name == "/thinking" and words in (["on"], ["off"]):
        state.thinking = words == ["on"]
        print(f"thinking {'on' if state.thinking else 'off'}", file=sys.stderr)
    elif name == "/tools":
        tools_command(client, state, words)
    else:
        print(HELP, file=sys.stderr)
    return True


def tools_command(client: AutoGLMClient, state: ChatState, words: list[str]) -> None:
    if words == ["off"]:
        state.tools = []
    elif words:
        state.tools = words
    else:
        for tool in client.list_tools():
            mark = "*" if tool.name in state.tools else " "
            print(f"{mark} {tool.name}: {tool.description.splitlines()[0] if tool.description else ''}")
    print(f"tools the model may use: {', '.join(state.tools) or 'none'}", file=sys.stderr)


def answer(client: AutoGLMClient, state: ChatState, text: str, out: TextIO) -> None:
    """Streams one answer; Ctrl-C cancels the call (the server stops) and re-raises."""
    stream = client.stream(
        text,
        model=state.model,
        session_id=state.session_id,
        thinking=state.thinking,
        allowed_tools=state.tools,
        max_new_tokens=state.max_new_tokens,
        timeout=None,
    )
    printer = EventPrinter(out, state.show_reasoning, dim=out.isatty())
    try:
        for event in stream:
            printer.show(event)
    except KeyboardInterrupt:
        stream.cancel()
        printer.end()
        print("[cancelled]", file=sys.stderr)
        raise
    printer.end()


class EventPrinter:
    """Prints stream events: reasoning apart from the answer, tool calls on lines of their own."""

    def __init__(self, out: TextIO, show_reasoning: bool, dim: bool) -> None:
        self.out = out
        self.show_reasoning = show_reasoning
        self.dim = dim
        self.section = ""  # "reasoning" or "answer": what the last text belonged to

    def show(self, event: generation_pb2.GenerateStreamResponse) -> None:
        kind = event.WhichOneof("event")
        if kind == "reasoning_delta" and self.show_reasoning:
            self._text("reasoning", event.reasoning_delta.text)
        elif kind == "content_delta":
            self._text("answer", event.content_delta.text)
        elif kind == "tool_call_started":
            call = event.tool_call_started
            self._line(f"[tool {call.name}({call.arguments_json}) ...]")
        elif kind == "tool_call_finished":
            done = event.tool_call_finished.call
            outcome = f"error: {done.error}" if done.error else done.result_json
            self._line(f"[tool {done.name} -> {outcome} ({done.duration_ms:.0f} ms)]")

    def end(self) -> None:
        if self.section:
            self._switch("")
            self.out.write("\n")
        self.out.flush()

    def _text(self, section: str, text: str) -> None:
        if section != self.section:
            self._switch(section)
        self.out.write(text)
        self.out.flush()

    def _switch(self, section: str) -> None:
        if self.section == "reasoning":
            self.out.write((RESET if self.dim else "") + "\n")
        if section == "reasoning":
            self.out.write(DIM if self.dim else "[reasoning]\n")
        self.section = section

    def _line(self, text: str) -> None:
        if self.section:
            self._switch("")
            self.out.write("\n")
        self.out.write(text + "\n")
        self.out.flush()
