"""``se://`` references: their syntax (:mod:`.syntax`) and how they resolve (:mod:`.resolution`)."""
