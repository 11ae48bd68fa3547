"""The app's hands on its screens: each view puts the controllers' data on one screen (or
dialog) and opens or closes it; the controllers reach a view only through the small protocol
they declare (``PreviewView``, ``PanelView``, ``SetupView``)."""
