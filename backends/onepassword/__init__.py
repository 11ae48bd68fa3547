"""The 1Password plugins: ``1password-cli`` (through ``op``), ``1password-sdk`` (service account).

Both are read-only, configurable and off until enabled.  They share the addressing of
:mod:`.items` (candidate IDs, normalization, primary field, field-level IDs) and the cached item
list of :mod:`.base`.  The registry names each plugin's own module
(``docker_pass.backends.onepassword.cli_plugin:OnePasswordCliPlugin``,
``docker_pass.backends.onepassword.sdk_plugin:OnePasswordSdkPlugin``), so loading one plugin
imports nothing of the other, and each imports its tool (``op``, ``onepassword-sdk``) only when
it starts.
"""

from __future__ import annotations
