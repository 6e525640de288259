"""Synchronization primitives that stay correct without the GIL (being built)."""
