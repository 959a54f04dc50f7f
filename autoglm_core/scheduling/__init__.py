"""Admission control: how many requests run at once, who waits, who is turned away."""
