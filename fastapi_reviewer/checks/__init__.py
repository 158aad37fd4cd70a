"""Rule implementations, one module per family. Each module exposes ``check(ctx)``."""
