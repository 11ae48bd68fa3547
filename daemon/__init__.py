"""The engine daemon (``docker pass engine run``): a long-running engine behind a Unix socket.

- :mod:`.server`: ``run_engine``, which puts the rooms below together and runs them.
- :mod:`.engine_host`: the warm engine and its generations; :mod:`.engine_calls`: the engine
  threads a request can stop waiting for.
- :mod:`.services`: the Connect services (the secrets engine's API and our own);
  :mod:`.app`: the ASGI application routing to them; :mod:`.protocol`: core's objects as
  protobuf messages, Connect errors.
- :mod:`.routes`: ``GetSecrets`` answered on the event loop while nothing it depends on
  changed, which :mod:`.changes` (inotify) tells without waiting; :mod:`.route_view`: a
  pattern not seen yet routed there too, from warm values read at start.
- :mod:`.feed`: the change feed (``WatchSecrets``), told by writes through the daemon and by
  the plugins' watchers (:mod:`.feed_watch`), so the UI's tree follows other processes.
- :mod:`.sockets`: the engine lock and the listening sockets; :mod:`.peers`: the one peer
  check of every connection; :mod:`.limits`: deadlines and connection limits.
- :mod:`.external`: plugins built with Docker's SDK (yamux, registration, launch and
  supervision); :mod:`.hijack`: ``GET /hijack``, how a plugin that dials in gets its raw
  connection; :mod:`.build_info`: the commit and date ``GetVersion`` reports.
- :mod:`.docker`: the Docker API proxy.
- ``proto/``: the API definitions; ``gen/`` is generated from them by :mod:`.codegen`.

Only this package imports protobuf, Connect and the ASGI server.  The fronts reach a running
daemon through :mod:`docker_pass.core.remote`, which needs nothing but the standard library.
"""
