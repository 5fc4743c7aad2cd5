"""The environment as a settings source, without the section of the tracker not chased."""

from __future__ import annotations

from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource


class SelectedTrackerEnv(PydanticBaseSettingsSource):
    """The environment's values without the section of the tracker not selected: one
    machine may hold both trackers' secrets, and only the chased one's matter."""

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        env: PydanticBaseSettingsSource,
        init: PydanticBaseSettingsSource,
    ):
        super().__init__(settings_cls)
        self.env, self.init = env, init

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # pragma: no cover - __call__ reads the whole env

    def __call__(self) -> dict[str, Any]:
        values = dict(self.env())
        tracker = values.get("tracker") or self.init().get("tracker") or "jira"
        for other in ("jira", "zentao"):
            if other != tracker:
                values.pop(other, None)
        return values
