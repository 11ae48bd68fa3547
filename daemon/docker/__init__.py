"""The Docker API proxy: ``se://`` in containers (:mod:`.proxy`), secret files (:mod:`.files`)."""
