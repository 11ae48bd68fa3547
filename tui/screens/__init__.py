"""The app's screens: main (tree and detail), plugins, editor, confirmation, help."""
