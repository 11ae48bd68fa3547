"""The Docker API proxy: :mod:`.proxy` serves its connections, :mod:`.relay` passes HTTP/1.1
on, :mod:`.rewrite` resolves ``se://`` in container create (and shows references again in
inspect), :mod:`.files` writes ``x-secret`` files, :mod:`.wiring` runs it in the daemon."""
