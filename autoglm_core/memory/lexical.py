"""The lexical fallback of knowledge search: BM25, scaled so that one threshold fits every query.

Terms are lower-cased Latin/digit words without common function words and with a crude suffix
stem (so "named" meets "name", "cats" meets "cat"), and for Chinese/Japanese/Korean runs (no
spaces to split on) single characters other than particles, plus character bigrams.

A document's BM25 score is divided by the sum of the query terms' IDFs, which is the score of a
document of average length that holds every query term once: about 1.0 means "all of the query is
there", 0.3 "terms carrying 30% of its information". Repeated terms and short documents can score
a little above 1.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+|[^\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_STOPWORD_TEXT = """
a an the is are was were be been am do does did what which who whom whose how when where why
can could would should will shall may might must i me my mine you your it its of in on at to for
from by with about into and or not no this that these those there here he she they them his her
their we us our 's s t just than then so if as
的 了 是 吗 呢 吧 啊 在 我 你 他 她 它 们 和 与 及 这 那 有 也 都 就 很 么 个
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_SUFFIXES = ("ing", "ed", "es", "s", "e")
K1 = 1.2
B = 0.75
DEFAULT_MIN_SCORE = 0.3


def terms(text: str) -> list[str]:
    out: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        word = match.group()
        if _CJK.match(word):
            out.extend(c for c in word if c not in _STOPWORDS)
            out.extend(word[i : i + 2] for i in range(len(word) - 1))
        elif word not in _STOPWORDS:
            out.append(_stem(word))
    return out


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def scores(query: str, documents: Sequence[str]) -> list[float]:
    """The scaled BM25 score of each document for the query (see the module docstring)."""
    wanted = set(terms(query))
    if not wanted or not documents:
        return [0.0] * len(documents)
    counted = [Counter(terms(d)) for d in documents]
    n = len(documents)
    average_length = max(sum(sum(c.values()) for c in counted) / n, 1.0)
    df = {t: sum(1 for c in counted if c[t]) for t in wanted}
    return [
        scaled_bm25({t: c[t] for t in wanted if c[t]}, sum(c.values()), df, n, average_length)
        for c in counted
    ]


def scaled_bm25(
    counts: dict[str, int], length: int, df: dict[str, int], n: int, average_length: float
) -> float:
    """One document's score: `counts` of the query's terms in it, its length in terms, the
    document frequency `df` of every query term among `n` documents of `average_length`."""
    idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
    best = sum(idf.values())
    if best <= 0:
        return 0.0
    length_norm = K1 * (1 - B + B * length / max(average_length, 1.0))
    total = sum(idf[t] * tf * (K1 + 1) / (tf + length_norm) for t, tf in counts.items() if t in idf)
    return total / best
