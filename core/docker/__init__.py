"""Docker things: where the Docker engine is (:mod:`.endpoint`), references in Compose and env
files (:mod:`.compose`), and a container config's references (:mod:`.container`)."""
