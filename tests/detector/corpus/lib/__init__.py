"""Helper modules imported by corpus programs (the user's own code, instrumented on import)."""
