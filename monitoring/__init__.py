"""Model quality in production: request logs, drift, accuracy with delayed labels, verification."""
