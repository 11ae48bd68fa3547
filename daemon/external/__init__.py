"""Hosting external plugins: programs built with Docker's plugin SDK that the engine runs.

Such a plugin either dials the engine's socket and asks ``GET /hijack`` to turn its connection
into a raw stream, or is started by the engine with one end of a socketpair as fd 3.  Either way
the stream then carries :mod:`.yamux` (hashicorp/yamux, with the engine as the yamux server), and
HTTP/1.1 Connect calls flow over its streams both ways.  This package holds what that needs:

- :mod:`.yamux`: the multiplexer;
- :mod:`.host`: each plugin connection, from its first frame to its registry entry
  (``ExternalHost.serve_connection`` is where both ways in meet);
- :mod:`.registration`: what a plugin asks (``RegisterPlugin``) and the rules it must meet;
- :mod:`.client` and :mod:`.plugin`: what the engine asks of a plugin, and the plugin as the
  engine's roster sees it; :mod:`.answers`: the one gate for a plugin's HTTP answers;
- :mod:`.launcher` and :mod:`.supervisor`: the plugins the daemon launches, restarts and stops.
"""
