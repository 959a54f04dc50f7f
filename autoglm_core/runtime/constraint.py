"""What the runtime asks of a per-request constraint on the next token (structured output, etc.).

The runtime knows nothing of schemas or grammars: a feature hands it an object with this shape in
`BackendRequest.constraint`, and the sampler calls it from the step loop's thread, one request at a
time, for every token that request produces.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class TokenConstraint(Protocol):
    """Limits which token may come next; advanced with every token the request produces."""

    def mask_logits(self, logits: Any) -> None:
        """Sets the logits of every token not allowed next to -inf, in place.

        `logits` is a 1-D float torch.Tensor over the model's output vocabulary (it may be longer than
        the tokenizer's vocabulary: the extra entries are never allowed), or a numpy float array (the
        fake runner's, which keeps the mock backend free of torch). Called before sampling.
        """
        ...

    def accept(self, token_id: int) -> None:
        """Advances the constraint past `token_id`, the token the sampler picked."""
        ...

    def is_finished(self) -> bool:
        """True when nothing more may be generated (the document is complete): the request ends."""
        ...
