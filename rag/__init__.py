"""Dépêche: answer French questions about news articles, citing the passages used."""
