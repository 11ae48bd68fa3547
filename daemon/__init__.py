"""The engine daemon (``docker pass engine run``): a long-running engine behind a Unix socket.

- :mod:`.server`: the Connect RPC server (the secrets engine's API and our own), its lifecycle.
- :mod:`.protocol`: core's objects as protobuf messages, Connect errors.
- ``proto/``: the API definitions; ``gen/`` is generated from them by :mod:`.codegen`.

Only this package imports protobuf, Connect and the ASGI server.  The fronts reach a running
daemon through :mod:`docker_pass.core.remote`, which needs nothing but the standard library.
"""
