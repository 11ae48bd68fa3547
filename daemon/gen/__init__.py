"""Generated from ../proto by ``python -m docker_pass.daemon.codegen``. DO NOT EDIT."""
