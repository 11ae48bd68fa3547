"""``scan``: search Docker's surfaces and files for the values of stored secrets.

:mod:`.matcher` compiles the values and their encodings into one multi-pattern matcher;
:mod:`.scanner` loads the values and runs a :class:`~.scanner.ScanPlan`;
:mod:`.docker_sources` reads containers, images, history and logs, and :mod:`.layers` the
files of image layers (through :mod:`.tar_stream` and :mod:`.prefetch`), from the engine
straight, never the proxy; :mod:`.files` reads Compose files, env files and paths;
:mod:`.report` holds the findings.  Values stay in memory; a finding names the secret, its
plugin, where and which encoding.
"""
