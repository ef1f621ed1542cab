"""Monitoring: drift against a model's training reference, pipeline run status, the Grafana
dashboard generator and Prometheus plots (the service's metrics are in ``serving.metrics``)."""
