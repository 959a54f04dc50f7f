"""Shell completion: the generated bash script completes commands, actions and options."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

AUTOGLM = str(Path(sys.executable).with_name("autoglm"))


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("autoglm us", "users"),
        ("autoglm users cr", "create"),
        ("autoglm models sp", "split"),
        ("autoglm keys list --out", "--output"),
        ("autoglm tools register --tar", "--target"),
    ],
)
def test_bash_completes_commands_and_options(line: str, expected: str) -> None:
    script = subprocess.run(
        [AUTOGLM, "completion", "bash"], capture_output=True, text=True, check=True
    ).stdout
    probe = f"COMP_WORDS=({line}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 )); "
    probe += '_autoglm_complete; echo "${COMPREPLY[*]}"'
    result = subprocess.run(["bash", "-c", script + "\n" + probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == [expected]


def test_zsh_script_loads_bash_completion() -> None:
    script = subprocess.run([AUTOGLM, "completion", "zsh"], capture_output=True, text=True, check=True).stdout
    assert "bashcompinit" in script and "complete -o default -F _autoglm_complete autoglm" in script
