"""Generated from ../proto by ``python -m docker_pass.core.daemon.codegen``. DO NOT EDIT."""
