"""The app's screens: main (tree and detail), plugins, editor, confirmation, help.

Only the main screen is imported at start.  The dialogs (editor, move, choice, confirm, setup,
help) and the plugins panel are imported where they are first opened: with the Textual widgets
only they use (TextArea, DataTable, Select) they cost ~35 ms before the first tree.
"""

from __future__ import annotations


def is_dialog(screen: object) -> bool:
    """Whether ``screen`` is a dialog whose keys are the only keys while it is open (the app's
    quit, help, plugins and palette keys wait): its class says so with ``OWN_KEYS_ONLY``.

    A mark on the class rather than a tuple of classes: asking imports no dialog."""
    return getattr(screen, "OWN_KEYS_ONLY", False) is True
