"""MindLens Gradio demo (installed as ``mindlens_demo``), mounted by the API at /demo."""
