"""Footage understanding for editors: shots, shot descriptions, a search index, exports."""
