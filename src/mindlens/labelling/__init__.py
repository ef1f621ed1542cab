"""Label Studio round trip: the labelling config generated from the taxonomy, pushing
curated examples and model pre-annotations, and pulling reviewed annotations back
into ``<state_dir>/labels`` (read by ``mindlens.data.sources.label_studio``).

Label Studio itself runs in its own venv (see ``server``); the app only needs
``label_studio_sdk``. Connection settings come from environment variables
(``MINDLENS_LABEL_STUDIO_URL``, ``_TOKEN``, ``_PROJECT``), not ``Settings``.
"""

from mindlens.labelling.config import label_config

__all__ = ["label_config"]
