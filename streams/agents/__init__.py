"""One module per agent; each registers itself on the app and keeps its logic in pure functions elsewhere."""
