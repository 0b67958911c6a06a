"""The Gradio chat window: ``python -m ui``."""
