"""``scan``: search Docker's surfaces and files for the values of stored secrets.

:mod:`.matcher` builds one Aho-Corasick automaton over the values and their encodings;
:mod:`.docker_sources` and :mod:`.layers` read the engine (straight, never the proxy);
:mod:`.files` reads Compose files, env files and paths; :mod:`.report` holds the findings.
Values stay in memory; a finding names the secret, its plugin, where and which encoding.
"""
