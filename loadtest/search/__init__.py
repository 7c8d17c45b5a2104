"""Capacity search: the highest open-loop rate one server holds within its SLO."""
