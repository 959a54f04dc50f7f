"""`autoglm completion bash|zsh`: a completion script generated from the parser itself.

source <(autoglm completion bash)     # in ~/.bashrc
source <(autoglm completion zsh)      # in ~/.zshrc (zsh runs the bash function via bashcompinit)
"""

from __future__ import annotations

import argparse
import shlex

BASH = """_autoglm_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" path="autoglm" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    [[ -n "${_autoglm_words["$path $word"]+x}" ]] && path="$path $word"
  done
  COMPREPLY=($(compgen -W "${_autoglm_words[$path]}" -- "$cur"))
}
declare -gA _autoglm_words=(
%s
)
complete -o default -F _autoglm_complete autoglm
"""
ZSH_PRELUDE = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"


def words(parser: argparse.ArgumentParser, path: str = "autoglm") -> dict[str, list[str]]:
    """For each command path ("autoglm users create"), the words that may follow it."""
    found: dict[str, list[str]] = {path: []}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[path].append(name)
                found.update(words(sub, f"{path} {name}"))
        else:
            found[path].extend(action.option_strings)
    return found


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    entries = "\n".join(
        f"  [{shlex.quote(path)}]={shlex.quote(' '.join(w))}" for path, w in words(parser).items()
    )
    return (ZSH_PRELUDE if shell == "zsh" else "") + BASH % entries


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], root: argparse.ArgumentParser
) -> None:
    completion = commands.add_parser("completion", help="print a shell completion script (bash or zsh)")
    completion.add_argument("shell", choices=("bash", "zsh"))
    completion.set_defaults(run=lambda args: print(script(root, args.shell), end=""))
