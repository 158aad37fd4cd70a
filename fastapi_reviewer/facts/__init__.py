"""Per-file facts: what one module defines, imports and calls, as a small picklable summary."""
