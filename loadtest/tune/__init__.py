"""Batching tuner: the batching parameters under which one replica holds the highest rate within
its SLO, one server restart per trial (TF Serving reads batching_parameters.txt once)."""
