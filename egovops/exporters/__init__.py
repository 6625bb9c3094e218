"""Prometheus exporters (prometheus-client) for egovops capabilities."""
