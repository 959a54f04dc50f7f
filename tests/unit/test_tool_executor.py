"""Tool execution: argument validation, failures as errors, timeouts, parallel calls."""

from __future__ import annotations

import asyncio

from autoglm_core.tools.builtin import register_builtins
from autoglm_core.tools.executor import PendingCall, ToolExecutor, ToolLimits
from autoglm_core.tools.http import HttpPolicy
from autoglm_core.tools.registry import ToolRegistry, ToolSpec


def make_executor(**limits: float) -> ToolExecutor:
    registry = ToolRegistry()
    register_builtins(registry)

    @registry.tool
    async def nap(seconds: float) -> dict[str, float]:
        """Sleep.

        Args:
            seconds: How long.
        """
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    @registry.tool
    def explode(message: str) -> None:
        """Fail.

        Args:
            message: The error message.
        """
        raise RuntimeError(message)

    return ToolExecutor(registry, HttpPolicy(), ToolLimits(**limits))  # type: ignore[arg-type]


def spec(executor: ToolExecutor, name: str) -> ToolSpec:
    return executor.registry.get(name)


async def test_valid_call_returns_a_json_result() -> None:
    executor = make_executor()
    call = PendingCall("c0", "convert_units", {"value": 1, "from_unit": "mile", "to_unit": "km"})
    record = await executor.invoke(call, spec(executor, "convert_units"))
    assert record.error == "" and record.result["result"] == 1.609344
    assert record.id == "c0" and record.duration_ms >= 0


async def test_invalid_arguments_are_an_error_not_an_exception() -> None:
    executor = make_executor()
    call = PendingCall("c0", "convert_units", {"value": "five", "from_unit": "parsec"})
    record = await executor.invoke(call, spec(executor, "convert_units"))
    assert record.error.startswith("invalid arguments")
    assert "'to_unit' is a required property" in record.error
    assert "value: 'five' is not of type 'number'" in record.error
    assert "from_unit: 'parsec' is not one of" in record.error


async def test_tool_exceptions_unknown_tools_and_timeouts_are_errors() -> None:
    executor = make_executor(call_timeout_s=0.2)
    record = await executor.invoke(
        PendingCall("c", "explode", {"message": "boom"}), spec(executor, "explode")
    )
    assert record.error == "RuntimeError: boom"
    record = await executor.invoke(PendingCall("c", "nope", {}), None)
    assert record.error == "unknown tool 'nope'"
    record = await executor.invoke(PendingCall("c", "nap", {"seconds": 5}), spec(executor, "nap"))
    assert record.error == "timed out after 0.2 s"


async def test_calls_of_a_turn_run_in_parallel_under_a_total_timeout() -> None:
    executor = make_executor(call_timeout_s=10, total_timeout_s=0.5)
    allowed = {"nap": spec(executor, "nap")}
    calls = [PendingCall(f"c{i}", "nap", {"seconds": 0.2}) for i in range(4)]
    records = await executor.run_all(calls, allowed)
    # One after the other they would need 0.8 s: the total timeout would cut the last ones.
    assert [r.id for r in records] == ["c0", "c1", "c2", "c3"] and not any(r.error for r in records)

    slow = [PendingCall("a", "nap", {"seconds": 0.05}), PendingCall("b", "nap", {"seconds": 3})]
    records = await executor.run_all(slow, allowed)
    assert records[0].error == "" and records[1].error.startswith("timed out")
