"""The app's hands on its screens: each view puts the controllers' data on one screen (or
dialog) and opens or closes it.  A controller reaches a view only through the small protocol
it declares (``PreviewView``, ``PanelView``, ``SetupView``, ``SecretDialogsView``)."""
