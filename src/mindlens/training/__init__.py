"""Training stages: fit a model, evaluate it on validation, log everything to MLflow."""
