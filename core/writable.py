"""Which plugins a refused write may be sent to instead, as the refusal names them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from docker_pass.core.plugin import capabilities_of, enable_remedy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from docker_pass.core.plugin import Capability


def able_plugins(
    classes: Mapping[str, Any], config: Mapping[str, Any], capability: Capability
) -> str:
    """``writable plugins: A, B`` — the plugins of ``classes`` that can ``capability`` and are
    enabled by ``config`` (or always on) — then how to bring in those that could but are off
    (``vault after docker pass plugins setup vault``): a plugin that is not set up is no place
    to write to.  For error paths only (the classes are imported to ask them)."""
    from docker_pass.core.config_schema import enabled_flag

    sections = config.get("plugins")
    able: list[str] = []
    later: list[str] = []
    for name, cls in classes.items():
        if capability not in capabilities_of(cls):
            continue
        configurable = bool(getattr(cls, "configurable", True))
        section = sections.get(name) if isinstance(sections, dict) else None
        enabled = enabled_flag(section.get("enabled")) if isinstance(section, dict) else None
        if enabled is None:
            enabled = bool(getattr(cls, "enabled_by_default", not configurable))
        if enabled or not configurable:
            able.append(name)
        elif getattr(cls, "setup_form", None) is not None:
            later.append(f"{name} after docker pass plugins setup {name}")
        else:
            later.append(f"{name} after {enable_remedy(name)}")
    text = f"writable plugins: {', '.join(able) or 'none'}"
    return f"{text}; {', '.join(later)}" if later else text
