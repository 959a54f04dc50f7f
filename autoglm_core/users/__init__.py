"""Users, API keys and per-user rate limits."""

from autoglm_core.users.ratelimit import RateLimiter
from autoglm_core.users.store import ApiKey, User, UserStore

__all__ = ["ApiKey", "RateLimiter", "User", "UserStore"]
