"""Models with a small fit / predict / predict_proba interface and safe (JSON) persistence."""
