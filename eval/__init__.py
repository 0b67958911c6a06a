"""Evaluation against gold Q&A pairs (``python -m eval``): to come with its issue."""
