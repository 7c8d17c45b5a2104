"""Checks for the deployment files: kustomize renders, Kubernetes schemas, Prometheus rules."""
