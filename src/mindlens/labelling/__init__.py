"""Label Studio round trip: the labelling config generated from the taxonomy, pushing
curated examples and model pre-annotations, and pulling reviewed annotations back
into ``<state_dir>/labels`` (read by ``mindlens.data.sources.label_studio``).

One job per module: ``connection`` (where Label Studio is, the token, a checked client),
``projects`` (find or create a project), ``tasks`` (what is sent: texts and
pre-annotations), ``sync`` (push and pull), ``annotations`` (reviewed annotations back into
the curated format), ``snapshots`` (label files on disk), ``state`` (what was already
handed to training), ``feedback`` (the user-feedback review queue), ``config`` (the
labelling XML), ``server`` (a local Label Studio for development and tests), ``cli``.

Label Studio itself runs in its own venv (see ``server``); the app only needs
``label_studio_sdk``. Connection settings are the config's ``label_studio`` section
(``url``, ``project``, ``feedback_project``; the older ``MINDLENS_LABEL_STUDIO_URL`` style
variables still work); the token is a secret, from ``MINDLENS_LABEL_STUDIO_TOKEN`` only.
"""

from mindlens.labelling.config import label_config

__all__ = ["label_config"]
