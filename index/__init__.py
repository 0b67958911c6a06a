"""Building and inspecting the index: ``python -m index build|status``."""
