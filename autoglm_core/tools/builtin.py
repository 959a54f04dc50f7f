"""Example Python tools every server registers: arithmetic, unit conversion and the current time.

Results put the value first with its unit named (`result`, then `unit`): the form a small model
copies into its answer (see agent.result_text).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from autoglm_core.tools.registry import ToolRegistry, tool

Unit = Literal[
    "kilometer", "km", "meter", "m", "centimeter", "cm", "millimeter", "mm",
    "mile", "mi", "yard", "yd", "foot", "ft", "inch",
    "kilogram", "kg", "gram", "g", "pound", "lb", "ounce", "oz", "tonne",
    "liter", "milliliter", "ml", "gallon",
    "celsius", "fahrenheit", "kelvin",
]  # fmt: skip

# Unit -> (quantity, factor to the quantity's base unit: meter, kilogram, liter).
_LINEAR: dict[str, tuple[str, float]] = {
    "kilometer": ("length", 1000.0), "km": ("length", 1000.0),
    "meter": ("length", 1.0), "m": ("length", 1.0),
    "centimeter": ("length", 0.01), "cm": ("length", 0.01),
    "millimeter": ("length", 0.001), "mm": ("length", 0.001),
    "mile": ("length", 1609.344), "mi": ("length", 1609.344),
    "yard": ("length", 0.9144), "yd": ("length", 0.9144),
    "foot": ("length", 0.3048), "ft": ("length", 0.3048), "inch": ("length", 0.0254),
    "kilogram": ("mass", 1.0), "kg": ("mass", 1.0), "gram": ("mass", 0.001), "g": ("mass", 0.001),
    "pound": ("mass", 0.45359237), "lb": ("mass", 0.45359237),
    "ounce": ("mass", 0.028349523125), "oz": ("mass", 0.028349523125), "tonne": ("mass", 1000.0),
    "liter": ("volume", 1.0), "milliliter": ("volume", 0.001), "ml": ("volume", 0.001),
    "gallon": ("volume", 3.785411784),
}  # fmt: skip
_TEMPERATURES = ("celsius", "fahrenheit", "kelvin")


def _to_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value + 273.15
    if unit == "fahrenheit":
        return (value - 32) * 5 / 9 + 273.15
    return value


def _from_kelvin(value: float, unit: str) -> float:
    if unit == "celsius":
        return value - 273.15
    if unit == "fahrenheit":
        return (value - 273.15) * 9 / 5 + 32
    return value


Operation = Literal["add", "subtract", "multiply", "divide", "power", "modulo"]


@tool
def calculate(a: float, operation: Operation, b: float) -> dict[str, Any]:
    """Calculator: add, subtract, multiply or divide two numbers, raise one to the power of the
    other, or take the remainder (modulo).

    Args:
        a: The first number.
        operation: What to do with the two numbers.
        b: The second number.
    """
    if operation in ("divide", "modulo") and b == 0:
        raise ValueError(f"cannot {operation} by zero")
    results = {
        "add": lambda: a + b,
        "subtract": lambda: a - b,
        "multiply": lambda: a * b,
        "divide": lambda: a / b,
        "power": lambda: math.pow(a, b),
        "modulo": lambda: math.fmod(a, b),
    }
    result = results[operation]()
    return {
        "result": int(result) if float(result).is_integer() else round(result, 6),
        "a": a,
        "operation": operation,
        "b": b,
    }


@tool
def convert_units(value: float, from_unit: Unit, to_unit: Unit) -> dict[str, Any]:
    """Convert a quantity between units of length, mass, volume or temperature.

    Args:
        value: The number to convert.
        from_unit: The unit the value is in.
        to_unit: The unit to convert to.
    """
    if from_unit in _TEMPERATURES and to_unit in _TEMPERATURES:
        result = _from_kelvin(_to_kelvin(value, from_unit), to_unit)
    elif from_unit in _LINEAR and to_unit in _LINEAR and _LINEAR[from_unit][0] == _LINEAR[to_unit][0]:
        result = value * _LINEAR[from_unit][1] / _LINEAR[to_unit][1]
    else:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    return {"result": round(result, 6), "unit": to_unit, "value": value, "from_unit": from_unit}


def _zone(name: str) -> ZoneInfo:
    """An IANA zone; a bare city ("Tokyo", "new york") finds its zone ("Asia/Tokyo")."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    suffix = "/" + name.strip().replace(" ", "_").lower()
    matches = sorted(z for z in available_timezones() if z.lower().endswith(suffix))
    if not matches:
        raise ValueError(f"unknown time zone {name!r}")
    return ZoneInfo(matches[0])


@tool
def get_time(timezone: str = "UTC") -> dict[str, str]:
    """Get the current date and time in a time zone.

    Args:
        timezone: An IANA time zone name such as Europe/Paris or Asia/Shanghai, or a city in it.
    """
    zone = _zone(timezone)
    now = dt.datetime.now(zone)
    return {
        "result": now.strftime("%H:%M"),
        "weekday": now.strftime("%A"),
        "date": now.date().isoformat(),
        "timezone": str(zone.key),
        "datetime": now.isoformat(timespec="seconds"),
    }


BUILTIN_TOOLS = (calculate, convert_units, get_time)


def register_builtins(registry: ToolRegistry) -> None:
    for function in BUILTIN_TOOLS:
        registry.add(function)
