"""`python -m export check-serving`: can a TF Serving release load and answer a version?

static: every op and attr of the `serve` graph and its functions against the release's op
registry (export.op_registry); runs: the version's requests replayed in the release's own
TensorFlow (a cached env, envs) by a standalone worker, answers compared with the export's.
"""
