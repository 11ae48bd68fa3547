"""The Textual terminal UI behind ``docker pass ui``.

Imported only by the ``ui`` verb, so no other command pays for Textual.  The modules
:mod:`realms`, :mod:`preview`, :mod:`gateway` and :mod:`demo` are plain Python that the app,
its workers and the benchmarks share.
"""
