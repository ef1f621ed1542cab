"""The model registry: register winners, read the champion, fetch its safe bundle."""

from mindlens.registry.registry import (
    ChampionInfo,
    NoChampionError,
    RegistrationResult,
    champion_info,
    download_champion,
    load_analyzer,
    register_if_better,
)

__all__ = [
    "ChampionInfo", "NoChampionError", "RegistrationResult", "champion_info",
    "download_champion", "load_analyzer", "register_if_better",
]
