"""The app's controllers: plain classes, one concern each, that the app delegates to.

Each holds the state of its concern and starts its workers; it takes the gateway and the
small interfaces of :mod:`.ports` (a status line, a runner), never the app.  The app keeps one
handler per message and routes each to the controller it concerns.
"""
