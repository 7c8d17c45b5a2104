"""The dynamic half of `check-serving`: a version's requests run in another TensorFlow release.

The version's warmup requests (and its training sample, where the export recorded the
model's answers on it) go to export/serving_check/worker.py, run by the target release's
interpreter (export.serving_check.envs), which loads the version through TF Serving's session path
and answers them. Each answer must equal the export's own: for warmup requests, what this
environment's session path answers (runtime.SessionBundle); for the sample, the answers
recorded at export. Floats within RTOL and ATOL (other kernels may round differently).
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from export.serving_check.envs import run_quietly
from export.serving_check.worker import decode_array, encode_array
from exported import ExportedError, WarmupRequest, read_reference_sample, read_warmup_requests
from runtime import DEFAULT_SIGNATURE, load_bundle
from wire.tensors import make_ndarray

WORKER = Path(__file__).with_name("worker.py")
RTOL = 1e-4
ATOL = 1e-5

Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class Run:
    """One request to replay: where it comes from, and the answers it must give."""

    label: str
    signature: str
    inputs: Arrays
    expected: Arrays


@dataclass
class DynamicResult:
    """What the target release did with a version's runs; no problems means it passed."""

    tensorflow: str
    runs: int
    problems: list[str] = field(default_factory=list)


def _inputs(request: WarmupRequest) -> Arrays:
    if request.kind == "predict":
        return {str(alias): make_ndarray(t) for alias, t in request.request.inputs.items()}
    examples = request.request.input.example_list.examples
    serialized = np.empty(len(examples), dtype=object)
    serialized[:] = [e.SerializeToString() for e in examples]
    return {"inputs": serialized}  # the classify and regress signatures' one input


def planned_runs(version_dir: Path) -> list[Run]:
    """The warmup requests with this environment's answers, then the recorded sample (none
    when the version has neither: the target then only loads it).

    Raises:
        ExportedError: the warmup file is corrupt.
        Exception: as runtime.load_bundle and SessionBundle.run raise, when the version does
            not load or answer here either.
    """
    try:
        requests = read_warmup_requests(version_dir)
    except FileNotFoundError:
        requests = []
    runs = []
    if requests:
        bundle = load_bundle(version_dir, ["serve"])
        try:
            for index, request in enumerate(requests):
                signature = request.signature_name or DEFAULT_SIGNATURE
                inputs = _inputs(request)
                label = f"warmup request {index} ({request.kind}, {signature})"
                runs.append(Run(label, signature, inputs, bundle.run(signature, inputs)))
        finally:
            bundle.close()
    try:
        inputs, outputs = read_reference_sample(version_dir)
    except ExportedError:  # older exports have none
        return runs
    if outputs:
        rows = len(next(iter(inputs.values())))
        label = f"training sample ({rows} rows, {DEFAULT_SIGNATURE}, answers recorded at export)"
        runs.append(Run(label, DEFAULT_SIGNATURE, inputs, outputs))
    return runs


def _differences(label: str, got: Arrays, want: Arrays) -> list[str]:
    if set(got) != set(want):
        return [f"{label}: outputs {sorted(got)}, the export's are {sorted(want)}"]
    found = []
    for name in sorted(want):
        a, b = np.asarray(got[name]), np.asarray(want[name])
        where = f"{label}, output {name!r}"
        if a.shape != b.shape:
            found.append(f"{where}: shape {a.shape}, the export's is {b.shape}")
        elif b.dtype.kind in "fc":
            if not np.allclose(a, b, rtol=RTOL, atol=ATOL):
                worst = float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                found.append(f"{where}: differs by up to {worst:.3g} (rtol={RTOL}, atol={ATOL})")
        elif not np.array_equal(a, b):
            found.append(f"{where}: values differ from the export's")
    return found


def dynamic_check(plans: dict[Path, list[Run]], python: Path) -> dict[Path, DynamicResult]:
    """Load each version with `python`'s TensorFlow, replay its runs, compare the answers.
    One worker process answers every version (TensorFlow starts once).

    Raises:
        RuntimeError: the worker itself failed (not a version: that is a problem found).
    """
    jobs = [
        {
            "saved_model": str(Path(version_dir).resolve()),
            "runs": [
                {
                    "signature": r.signature,
                    "inputs": {k: encode_array(v) for k, v in r.inputs.items()},
                }
                for r in runs
            ],
        }
        for version_dir, runs in plans.items()
    ]
    with tempfile.TemporaryDirectory(prefix="check-serving-") as tmp:
        request_path, result_path = Path(tmp, "request.json"), Path(tmp, "result.json")
        request_path.write_text(json.dumps({"versions": jobs}))
        done = run_quietly([str(python), str(WORKER), str(request_path), str(result_path)])
        if done.returncode != 0 or not result_path.is_file():
            raise RuntimeError(
                f"{WORKER.name} failed in {python} (exit status {done.returncode}):"
                f" {done.stderr[-2000:]}"
            )
        result = json.loads(result_path.read_text())
    return {
        version_dir: _judge(result["tensorflow"], runs, answers)
        for (version_dir, runs), answers in zip(plans.items(), result["versions"], strict=True)
    }


def _judge(tensorflow: str, runs: list[Run], answers: dict[str, Any]) -> DynamicResult:
    outcome = DynamicResult(tensorflow, len(runs))
    if answers["load_error"]:
        outcome.problems.append(f"does not load: {answers['load_error']}")
        return outcome
    for run, answer in zip(runs, answers["runs"], strict=True):
        if "error" in answer:
            outcome.problems.append(f"{run.label} fails: {answer['error']}")
            continue
        got = {k: decode_array(v) for k, v in answer["outputs"].items()}
        outcome.problems.extend(_differences(run.label, got, run.expected))
    return outcome
