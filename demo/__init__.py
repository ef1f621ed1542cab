"""MindLens Gradio demo (installed as ``mindlens_demo``): a UI plugin that serving mounts at
/demo, found through the ``mindlens.ui`` entry point (``mindlens_demo.app:mount``).

Modules, one job each: ``app`` (the entry point: mount into the FastAPI app), ``service``
(calls into MindLens: the same analyze and feedback operations as the API), ``layout``
(the Gradio blocks and their wiring), ``callbacks`` (what each UI event does), ``render``
(highlights, tables and labels from a result), ``corrections`` (the feedback the user
composes) and ``inputs`` (example articles and uploads).
"""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home: before Gradio is imported
