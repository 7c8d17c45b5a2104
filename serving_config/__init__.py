"""serving_config package."""
