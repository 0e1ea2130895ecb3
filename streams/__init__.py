"""Faust stream processing: join, summarize, embed and index. The app, its topics, tables, one module per agent."""
