"""`python -m bench clients`: import cost, tensor conversion and gRPC overhead of `clients`."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.clients_codec import clients_codec, tensorflow_codec, time_codecs
from bench.clients_grpc import MODEL, ROUNDS, fixture_server, time_grpc_paths
from bench.clients_imports import (
    BASELINE,
    CLIENT_CASES,
    DEPENDENCY_CASES,
    TF_CASES,
    import_profile,
    measure_import,
)
from bench.clients_report import ClientsBenchResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClientsBenchOptions:
    """Repetitions and paths for one run."""

    out: Path
    models: Path  # where the half_plus_two fixture is, or is built
    import_runs: int = 7
    tf_import_runs: int = 3  # each takes seconds: TensorFlow is slow to import
    codec_repeat: int = 7
    codec_min_seconds: float = 0.1  # per timeit sample
    requests: int = 3000
    warmup: int = 200


def run_clients_bench(options: ClientsBenchOptions) -> ClientsBenchResult:
    """Imports in fresh processes, then codec timings, then gRPC paths against our server.

    Raises:
        RuntimeError: an import failed, a codec did not round-trip, or the server did not
            start.
    """
    options.out.mkdir(parents=True, exist_ok=True)
    load_at_start = os.getloadavg()
    log.info("imports: %d fresh processes per statement", options.import_runs)
    imports = {
        case.name: measure_import(case, options.import_runs)
        for case in (BASELINE, *CLIENT_CASES, *DEPENDENCY_CASES)
    }
    for case in TF_CASES:
        imports[case.name] = measure_import(case, options.tf_import_runs)
    profiles = {case.name: import_profile(case.statement) for case in CLIENT_CASES}

    log.info("codec: wire.tensors against tf.make_tensor_proto / tf.make_ndarray")
    codec = time_codecs(
        clients_codec(), tensorflow_codec(), options.codec_repeat, options.codec_min_seconds
    )

    log.info("gRPC: GrpcClient.predict against a bare stub, model %s", MODEL)
    with fixture_server(options.models, options.out / "logs") as grpc_port:
        grpc = time_grpc_paths(grpc_port, options.requests, options.warmup)

    settings = {
        **{k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "model": MODEL,
        "rounds": ROUNDS,
        "load_average_at_start": load_at_start,
        "load_average_at_end": os.getloadavg(),
    }
    return ClientsBenchResult(imports, profiles, codec, grpc, settings)
