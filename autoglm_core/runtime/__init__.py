"""The serving runtime: a scheduler that knows no model, model runners that know no policy, and one
step loop between them (the split of vLLM v1's engine core)."""
