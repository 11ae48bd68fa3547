"""The UI's model: plain Python (no Textual) that the app and its widgets share.

Realms and their counts, the pattern preview, search, listings, undo, and the gateway that is the
UI's one door to the engine.
"""
