"""Drift of logged inputs and predictions against an exported version's training reference."""
