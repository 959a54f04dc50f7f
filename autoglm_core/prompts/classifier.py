"""A small rule-based classifier of what the user's latest message asks for."""

from __future__ import annotations

import re

TRANSLATE, SUMMARIZE, CODE, QA, CHAT = "translate", "summarize", "code", "qa", "chat"

_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        TRANSLATE,
        re.compile(
            r"\btranslat(e|es|ed|ing|ion)\b|\b(in|into|to) (english|chinese|french|german|spanish|"
            r"japanese|korean|russian|italian|portuguese)\s*[:：]|"
            r"翻译|翻成|译成|译为|译作|(英文|中文|英语|汉语|日语|法语|德语)(怎么说|是什么意思)",
            re.IGNORECASE,
        ),
    ),
    (
        SUMMARIZE,
        re.compile(
            r"\bsummar(y|ies|ise|ize|ised|ized|ising|izing)\b|\btl;?dr\b|\bkey (points|takeaways)\b|"
            r"\bin (a )?(few|one|two|three) (sentences?|words|lines|bullets?)\b|"
            r"总结|摘要|概括|归纳|概述|简述|要点",
            re.IGNORECASE,
        ),
    ),
    (
        CODE,
        re.compile(
            r"```|\b(python|javascript|typescript|java|golang|rust|c\+\+|sql|regex|bash|html|css)\b|"
            r"\b(code|function|class|method|compile[sd]?|compiler|bug|debug|traceback|stack trace|"
            r"exception|refactor|unit tests?|api endpoint|script)\b|\bdef \w+\(|"
            r"代码|编程|函数|程序|脚本|报错|调试|编译|正则",
            re.IGNORECASE,
        ),
    ),
    (
        QA,
        re.compile(
            r"[?？]\s*$|^\s*(what|why|how|when|where|who|whom|whose|which|is|are|was|were|do|does|did|"
            r"can|could|should|would|will|explain|define|tell me)\b|"
            r"什么|为什么|为何|怎么|怎样|如何|多少|几(个|年|点|天|岁|次)|哪|谁|是否|吗\s*$|呢\s*$|请问|解释",
            re.IGNORECASE,
        ),
    ),
]


def classify(text: str) -> str:
    """The task type of a user message: translate, summarize, code, qa or chat.

    How it decides: rules are tried in a fixed order and the first whose pattern occurs in the text
    wins; nothing matching means chat. Each rule looks for cue words in English and Chinese:

    1. translate: "translate"/"translation", "into French:", 翻译/译成/翻成, 英文怎么说.
    2. summarize: "summary"/"summarize", "tl;dr", "key points", "in three sentences", 总结/摘要/概括.
    3. code: a code fence, a language name (python, sql, regex ...), words like function, bug,
       traceback, refactor, or 代码/函数/报错/脚本.
    4. qa: a question mark at the end, an opening question word (what, why, how, is, can ...,
       explain), or 什么/为什么/怎么/如何/多少/吗/呢.

    The order puts explicit requests for an operation on a text (translate, summarize) before topic
    cues (code), and those before the mere form of a question: "Translate 'how are you?' into
    French" is a translation, "Why does my Python function fail?" is about code.
    """
    for task, pattern in _RULES:
        if pattern.search(text):
            return task
    return CHAT


def language_of(text: str) -> str:
    """'zh' when the text contains Chinese characters, else 'en' (templates answer in kind)."""
    return "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en"
