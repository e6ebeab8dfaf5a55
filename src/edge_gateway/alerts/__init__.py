"""Alerts evaluated in the bridge on the stream of stored readings, sent to Prometheus Alertmanager."""
