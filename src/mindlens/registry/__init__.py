"""The model registry: register winners, read the champion, fetch its safe bundle."""

from mindlens.registry.registry import (
    ChampionInfo,
    NoChampionError,
    RegistrationResult,
    champion_info,
    download_champion,
    list_versions,
    load_analyzer,
    promote,
    register_if_better,
    rollback,
)

__all__ = [
    "ChampionInfo",
    "NoChampionError",
    "RegistrationResult",
    "champion_info",
    "download_champion",
    "list_versions",
    "load_analyzer",
    "promote",
    "register_if_better",
    "rollback",
]
