"""Mutated valid requests to the example models, and the malformed requests that once broke the
server: request content never earns a 5xx, UNKNOWN or INTERNAL, nothing hangs, nothing costs
memory out of proportion to its size, and a valid request is answered after."""

from __future__ import annotations

import base64
import json
import random
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import requests
from google.protobuf.message import DecodeError
from tensorflow_serving.apis import (
    classification_pb2,
    predict_pb2,
    prediction_log_pb2,
    regression_pb2,
)

from tests.serverproc import RunningServer, start_server
from wire.tensors import make_ndarray
from wire.tfrecord import read_tfrecords

MODELS = ("tabular", "digits", "regressor")
MIB = 2**20
REQUEST_TIMEOUT = 30  # seconds: far more than any answer takes; reaching it is a hang
REST_CASES = 3000
GRPC_CASES = 3000
SERVICE = "/tensorflow.serving.PredictionService"
GRPC_REQUESTS: dict[str, type[Any]] = {
    "Predict": predict_pb2.PredictRequest,
    "Classify": classification_pb2.ClassificationRequest,
    "Regress": regression_pb2.RegressionRequest,
}
# Codes request content may earn; INTERNAL only when the bytes are no such message at all
# (gRPC's deserializer says so before the servicer sees anything).
CONTENT_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNIMPLEMENTED,
}


@pytest.fixture(scope="module")
def server(
    example_models: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """The three example models, with the default limits."""
    folder = tmp_path_factory.mktemp("fuzz-server")
    entries = "".join(
        f'config {{ name: "{name}" base_path: "{example_models / name}" '
        'model_platform: "tensorflow" }\n'
        for name in MODELS
    )
    config = folder / "models.config"
    config.write_text(f"model_config_list {{\n{entries}}}\n")
    flags = [f"--model_config_file={config}", "--max_num_load_retries=0"]
    with start_server(flags, folder) as running:
        yield running


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture(scope="module")
def channel(server: RunningServer) -> Iterator[grpc.Channel]:
    options = [("grpc.max_send_message_length", 256 * MIB)]
    with grpc.insecure_channel(server.grpc, options=options) as channel:
        yield channel


# --- valid requests: each model's warmup requests, as gRPC messages and REST bodies ----------


@dataclass(frozen=True)
class Seed:
    model: str
    method: str  # Predict, Classify or Regress
    message: Any
    rest_body: bytes

    @property
    def verb(self) -> str:
        return self.method.lower()


def _json_leaf(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    return value


def _predict_body(request: predict_pb2.PredictRequest) -> bytes:
    arrays = {alias: make_ndarray(tensor) for alias, tensor in request.inputs.items()}
    rows = len(next(iter(arrays.values())))
    instances = [
        {alias: _json_leaf(np.asarray(array[row]).tolist()) for alias, array in arrays.items()}
        for row in range(rows)
    ]
    return json.dumps({"instances": instances}).encode()


def _examples_body(request: Any) -> bytes:
    examples = []
    for example in request.input.example_list.examples:
        features = {}
        for name, feature in example.features.feature.items():
            kind = feature.WhichOneof("kind")
            values = list(getattr(feature, kind).value) if kind else []
            features[name] = [_json_leaf(v) for v in values]
        examples.append(features)
    return json.dumps({"examples": examples}).encode()


def _seeds(example_models: Path) -> list[Seed]:
    seeds = []
    for model in MODELS:
        warmup = example_models / model / "1" / "assets.extra" / "tf_serving_warmup_requests"
        for record in read_tfrecords(warmup):
            log = prediction_log_pb2.PredictionLog.FromString(record)
            kind = log.WhichOneof("log_type")
            if kind == "predict_log":
                request = log.predict_log.request
                seeds.append(Seed(model, "Predict", request, _predict_body(request)))
            elif kind in ("classify_log", "regress_log"):
                request = getattr(log, kind).request
                method = "Classify" if kind == "classify_log" else "Regress"
                seeds.append(Seed(model, method, request, _examples_body(request)))
    return seeds


@pytest.fixture(scope="module")
def seeds(example_models: Path) -> list[Seed]:
    found = _seeds(example_models)
    assert {s.method for s in found} == {"Predict", "Classify", "Regress"}
    return found


# --- REST mutations ---------------------------------------------------------------------------

HUGE_NUMBERS = [
    b"1e999999",
    b"9" * 5000,
    b"-" + b"9" * 400,
    b"1" + b"0" * 30,
    b"NaN",
    b"-Infinity",
    b"1.7976931348623157e309",
    b"18446744073709551616",
    b"0.0000000000000000000000000000000000000000001e-400",
]
BAD_TEXT = [b"\xd4", b"\xff\xfe", b"\xed\xa0\x80", b"\xc0\xaf", b"\\udcd4", b"\\ud800", b"\x00"]
KEYS = [b"instances", b"inputs", b"examples", b"context", b"signature_name", b"b64", b""]
NUMBER = re.compile(rb"-?[0-9][0-9.eE+-]*")
KEY = re.compile(rb'"[^"\\]*"\s*:')


def _flip(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def _truncate(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    return body[: rng.randrange(len(body))]


def _splice(rng: random.Random, body: bytes, other: bytes) -> bytes:
    return body[: rng.randrange(len(body))] + other[rng.randrange(len(other)) :]


def _huge_number(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    spots = list(NUMBER.finditer(body))
    if not spots:
        return body + rng.choice(HUGE_NUMBERS)
    spot = rng.choice(spots)
    return body[: spot.start()] + rng.choice(HUGE_NUMBERS) + body[spot.end() :]


def _bad_text(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    # Inside a key or a string value: right after an opening quote.
    quotes = [m.start() + 1 for m in re.finditer(rb'"', body)] or [0]
    at = rng.choice(quotes)
    return body[:at] + rng.choice(BAD_TEXT) + body[at:]


def _swap_key(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    spots = list(KEY.finditer(body))
    if not spots:
        return body
    spot = rng.choice(spots)
    return body[: spot.start()] + b'"' + rng.choice(KEYS + BAD_TEXT) + b'":' + body[spot.end() :]


def _nesting(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    brackets = [m.start() for m in re.finditer(rb"[\[\{]", body)] or [0]
    at = rng.choice(brackets)
    wrap = rng.choice([b"[", b"[[", b"{", b'{"a":', b"[" * rng.randint(100, 20000)])
    closing = rng.choice([b"", b"]", b"}"])
    return body[:at] + wrap + body[at:] + closing


def _delete(rng: random.Random, body: bytes, _other: bytes) -> bytes:
    start = rng.randrange(len(body))
    return body[:start] + body[start + rng.randint(1, 16) :]


REST_MUTATORS: list[Callable[[random.Random, bytes, bytes], bytes]] = [
    _flip,
    _truncate,
    _splice,
    _huge_number,
    _bad_text,
    _swap_key,
    _nesting,
    _delete,
]


def _rest_url(rng: random.Random, seed: Seed) -> str:
    model, verb = seed.model, seed.verb
    roll = rng.random()
    if roll < 0.1:
        return f"/v1/models/{model}/versions/{'9' * rng.choice([19, 20, 400, 4301, 20000])}:{verb}"
    if roll < 0.15:
        return f"/v1/models/{model}/versions/{'0' * 5000}1:{verb}"
    if roll < 0.2:
        label = rng.choice(["%FF%FE", "%C0%AF", "%00", "x" * 3000, "%ED%A0%80"])
        return f"/v1/models/{model}/labels/{label}:{verb}"
    if roll < 0.25:
        name = rng.choice(["%FF", "%D4bad", "a" * 5000, "..", "%2F"])
        return f"/v1/models/{name}:{verb}"
    if roll < 0.3:
        return f"/v1/models/{model}:{rng.choice(['predict', 'classify', 'regress'])}"
    return f"/v1/models/{model}:{verb}"


def _assert_client_error(response: requests.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code != 200 and response.text:
        document = json.loads(response.text, parse_constant=float)
        assert "error" in document, what
        assert "Traceback" not in document["error"], what


def _valid_predict_answered(server: RunningServer, session: requests.Session, seed: Seed) -> None:
    response = session.post(
        f"{server.rest}/v1/models/{seed.model}:predict",
        data=seed.rest_body,
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    assert "predictions" in response.json()


def test_mutated_rest_bodies_are_client_errors(
    server: RunningServer, session: requests.Session, seeds: list[Seed]
) -> None:
    rng = random.Random(20261204)
    statuses: dict[int, int] = {}
    for case in range(REST_CASES):
        seed = rng.choice(seeds)
        body = seed.rest_body
        for _ in range(rng.randint(1, 3)):
            mutate = rng.choice(REST_MUTATORS)
            body = mutate(rng, body or b"{}", rng.choice(seeds).rest_body)
        url = _rest_url(rng, seed)
        headers = {}
        if rng.random() < 0.1:
            body, headers = zlib.compress(body, wbits=31), {"Content-Encoding": "gzip"}
        response = session.post(
            f"{server.rest}{url}", data=body, headers=headers, timeout=REQUEST_TIMEOUT
        )
        _assert_client_error(response, f"case {case}: POST {url[:120]} {body[:200]!r}")
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    # The mutations reach the decoders and the models, not only the JSON parser.
    assert statuses.get(400, 0) > REST_CASES // 4, statuses
    assert statuses.get(200, 0) > 0, statuses
    _valid_predict_answered(server, session, next(s for s in seeds if s.method == "Predict"))


# --- gRPC mutations ---------------------------------------------------------------------------

HUGE_DIMS = [2**40, 2**62, 2**31, 2**27, -1, -(2**40), 0, 2**63 - 1]


def _tensor_mutation(rng: random.Random, request: Any) -> None:
    if not getattr(request, "inputs", None):
        return
    tensor = request.inputs[rng.choice(sorted(request.inputs))]
    roll = rng.random()
    if roll < 0.35:
        if not tensor.tensor_shape.dim:
            tensor.tensor_shape.dim.add()
        for dim in tensor.tensor_shape.dim:
            if rng.random() < 0.7:
                dim.size = rng.choice(HUGE_DIMS)
        for _ in range(rng.choice([0, 0, 1, 3])):
            tensor.tensor_shape.dim.add(size=rng.choice(HUGE_DIMS))
    elif roll < 0.5:
        tensor.dtype = rng.choice([0, 2, 3, 7, 9, 10, 14, 17, 19, 20, 21, 23, 101, 999])
    elif roll < 0.65:
        tensor.tensor_content = rng.randbytes(rng.choice([1, 3, 7, 8, 64, 4096]))
    elif roll < 0.75:
        tensor.string_val.extend([rng.choice(BAD_TEXT), rng.randbytes(rng.randint(0, 40))])
    elif roll < 0.85:
        tensor.tensor_shape.unknown_rank = True
    else:
        for _ in range(rng.randint(60, 300)):
            tensor.tensor_shape.dim.add(size=1)


def _spec_mutation(rng: random.Random, request: Any) -> None:
    spec = request.model_spec
    roll = rng.random()
    if roll < 0.3:
        spec.version.value = rng.choice([2**63 - 1, -1, 0, 2, -(2**63)])
    elif roll < 0.5:
        spec.version_label = rng.choice(["", "stable", "x" * 3000, "\u00e9\u0000"])
    elif roll < 0.7:
        spec.signature_name = rng.choice(["", "nope", "classify", "regress", "\u00e9" * 100])
    elif roll < 0.85:
        spec.name = rng.choice(["", "nope", "digits", "tabular", "regressor", "a" * 5000])
    elif hasattr(request, "output_filter"):
        request.output_filter.append(rng.choice(["nope", "probabilities", "class_ids", ""]))


def _byte_mutation(rng: random.Random, data: bytes, other: bytes) -> bytes:
    mutate = rng.choice([_flip, _truncate, _splice, _delete])
    return mutate(rng, data or b"\n\x00", other or b"\n\x00")


def _grpc_case(rng: random.Random, seeds: list[Seed]) -> tuple[str, bytes]:
    seed = rng.choice(seeds)
    request = type(seed.message)()
    request.CopyFrom(seed.message)
    for _ in range(rng.randint(1, 2)):
        (_tensor_mutation if rng.random() < 0.6 else _spec_mutation)(rng, request)
    data = request.SerializeToString()
    if rng.random() < 0.4:
        others = [s for s in seeds if s.method == seed.method]
        data = _byte_mutation(rng, data, rng.choice(others).message.SerializeToString())
    return seed.method, data


def _parses(method: str, data: bytes) -> bool:
    try:
        GRPC_REQUESTS[method].FromString(data)
    except DecodeError:
        return False
    return True


def test_mutated_grpc_requests_are_client_errors(channel: grpc.Channel, seeds: list[Seed]) -> None:
    rng = random.Random(4122026)
    calls = {method: channel.unary_unary(f"{SERVICE}/{method}") for method in GRPC_REQUESTS}
    codes: dict[grpc.StatusCode, int] = {}
    for case in range(GRPC_CASES):
        method, data = _grpc_case(rng, seeds)
        try:
            calls[method](data, timeout=REQUEST_TIMEOUT)
            code = grpc.StatusCode.OK
        except grpc.RpcError as err:
            code = err.code()
            what = f"case {case}: {method} {data[:200]!r}: {code} {err.details()}"
            if code == grpc.StatusCode.INTERNAL:
                assert not _parses(method, data), what
            else:
                assert code in CONTENT_CODES, what
                assert "Traceback" not in (err.details() or ""), what
        codes[code] = codes.get(code, 0) + 1
    assert codes.get(grpc.StatusCode.INVALID_ARGUMENT, 0) > GRPC_CASES // 4, codes
    predict = next(s for s in seeds if s.method == "Predict")
    reply = calls["Predict"](predict.message.SerializeToString(), timeout=REQUEST_TIMEOUT)
    assert predict_pb2.PredictResponse.FromString(reply).outputs


# --- the specific cases -------------------------------------------------------------------------


def _peak_memory(server: RunningServer) -> int | None:
    """The server process's peak resident memory in bytes; None for a server not started here."""
    pid = getattr(server.process, "pid", None)
    if pid is None:
        return None
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match is not None, status
    return int(match.group(1)) * 1024


def _predict_stub(channel: grpc.Channel) -> Callable[..., Any]:
    return channel.unary_unary(
        f"{SERVICE}/Predict",
        request_serializer=predict_pb2.PredictRequest.SerializeToString,
        response_deserializer=predict_pb2.PredictResponse.FromString,
    )


def _one_value_request(seeds: list[Seed], model: str, dims: list[int]) -> Any:
    seed = next(s for s in seeds if s.model == model and s.method == "Predict")
    request = predict_pb2.PredictRequest()
    request.CopyFrom(seed.message)
    alias = sorted(request.inputs)[0]
    tensor = request.inputs[alias]
    del tensor.tensor_shape.dim[:]
    for size in dims:
        tensor.tensor_shape.dim.add(size=size)
    return request, alias


@pytest.mark.parametrize(
    "dims",
    [
        pytest.param([2**40], id="dims-2^40"),
        pytest.param([2**27], id="shape-2^27"),
        pytest.param([2**20, 2**20, 2**20], id="three-dims-2^20"),
    ],
)
def test_a_huge_shape_with_one_value_is_invalid_argument(
    server: RunningServer, channel: grpc.Channel, seeds: list[Seed], dims: list[int]
) -> None:
    """A 17-byte tensor whose one value TensorFlow would repeat over the shape is refused,
    naming the input, before anything the size of the shape is built."""
    request, alias = _one_value_request(seeds, "tabular", dims)
    assert len(request.inputs[alias].SerializeToString()) < 40
    before = _peak_memory(server)
    with pytest.raises(grpc.RpcError) as caught:
        _predict_stub(channel)(request, timeout=REQUEST_TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    details = caught.value.details()
    assert f"Input tensor '{alias}' of shape [{','.join(map(str, dims))}]" in details
    assert "more than the limit of 268435456 bytes (--max_tensor_bytes)" in details
    after = _peak_memory(server)
    if before is not None and after is not None:
        assert after - before < 128 * MIB


def test_a_non_utf8_feature_name_in_a_classify_example_is_a_client_error(
    server: RunningServer, session: requests.Session
) -> None:
    body = b'{"examples": [{"mean_radius": [1.0], "\xd4bad": [2.0]}]}'
    response = session.post(
        f"{server.rest}/v1/models/tabular:classify", data=body, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(
        "Feature name '\\xd4bad' is not valid UTF-8 (at character 0)"
    )
    escaped = session.post(
        f"{server.rest}/v1/models/tabular:classify",
        data=b'{"examples": [{"\\udcd4": [2.0]}]}',
        timeout=REQUEST_TIMEOUT,
    )
    assert escaped.status_code == 400, escaped.text
    assert "is not valid UTF-8" in escaped.json()["error"]


@pytest.mark.parametrize(
    "digits",
    [
        pytest.param("9" * 20, id="20-digits"),
        pytest.param("9" * 5000, id="5000-digits"),
        pytest.param("0" * 5000 + "1" * 25, id="leading-zeros"),
    ],
)
def test_a_version_beyond_int64_is_a_client_error(
    server: RunningServer, session: requests.Session, digits: str
) -> None:
    for method, url in [
        ("GET", f"/v1/models/tabular/versions/{digits}"),
        ("POST", f"/v1/models/tabular/versions/{digits}:predict"),
    ]:
        response = session.request(
            method, f"{server.rest}{url}", data=b'{"instances": [1]}', timeout=REQUEST_TIMEOUT
        )
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error.startswith(f"Failed to convert version: {digits[:32]}")
        assert len(error) < 200


def test_a_100000_digit_version_is_a_client_error(
    server: RunningServer, session: requests.Session
) -> None:
    response = session.get(
        f"{server.rest}/v1/models/tabular/versions/{'9' * 100_000}", timeout=REQUEST_TIMEOUT
    )
    assert 400 <= response.status_code < 500, response.text[:300]
    _valid_predict_answered_after_small_predict(server, session)


def _valid_predict_answered_after_small_predict(
    server: RunningServer, session: requests.Session
) -> None:
    response = session.get(f"{server.rest}/v1/models/tabular", timeout=REQUEST_TIMEOUT)
    assert response.status_code == 200
    assert response.json()["model_version_status"][0]["state"] == "AVAILABLE"


def _gzip_bomb(inflated: int) -> bytes:
    """A gzip body inflating to `inflated` bytes of JSON: a list of zeros."""
    compressor = zlib.compressobj(9, wbits=31)
    head = b'{"instances": ['
    parts = [compressor.compress(head)]
    chunk = b"0," * (MIB // 2)
    for _ in range(inflated // len(chunk)):
        parts.append(compressor.compress(chunk))
    parts.append(compressor.compress(b"0]}") + compressor.flush())
    return b"".join(parts)


def test_a_gzip_bomb_is_refused_at_the_request_limit(
    server: RunningServer, session: requests.Session
) -> None:
    """98 KiB inflating to 99 MiB: over --max_request_bytes (64 MiB) once inflated, so it is
    refused before it is parsed, without the memory parsing it would take."""
    bomb = _gzip_bomb(99 * MIB)
    assert len(bomb) < 200 * 1024
    before = _peak_memory(server)
    response = session.post(
        f"{server.rest}/v1/models/regressor:predict",
        data=bomb,
        headers={"Content-Encoding": "gzip"},
        timeout=REQUEST_TIMEOUT,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == (
        f"Decompressed request body exceeds the limit of {64 * MIB} bytes"
    )
    after = _peak_memory(server)
    if before is not None and after is not None:
        assert after - before < 100 * MIB  # the inflated part kept: up to the 64 MiB limit


def _png(height: int, width: int) -> bytes:
    """A grayscale PNG of zeros, written by hand so that the test never holds its pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then the row's pixels
    parts = [compressor.compress(row) for _ in range(height)]
    pixels = b"".join(parts) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_an_oversized_png_is_refused_by_the_digits_graph(
    server: RunningServer, session: requests.Session, channel: grpc.Channel
) -> None:
    """8000x8000 pixels in 60-odd KiB: the exported graph reads the header and refuses it
    before decoding (so TF Serving would too); a small image still classifies."""
    big = _png(8000, 8000)
    assert len(big) < 200 * 1024
    before = _peak_memory(server)
    body = {"instances": [{"b64": base64.b64encode(big).decode()}]}
    response = session.post(
        f"{server.rest}/v1/models/digits:predict", json=body, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert "image_bytes holds an image of 8000x8000 pixels" in error
    assert "at most 1048576 pixels" in error
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "digits"
    request.inputs["image_bytes"].dtype = 7  # DT_STRING
    request.inputs["image_bytes"].tensor_shape.dim.add(size=1)
    request.inputs["image_bytes"].string_val.append(big)
    with pytest.raises(grpc.RpcError) as caught:
        _predict_stub(channel)(request, timeout=REQUEST_TIMEOUT)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "8000x8000" in caught.value.details()
    after = _peak_memory(server)
    if before is not None and after is not None:
        assert after - before < 128 * MIB
    small = _png(28, 20)
    body = {"instances": [{"b64": base64.b64encode(small).decode()}]}
    response = session.post(
        f"{server.rest}/v1/models/digits:predict", json=body, timeout=REQUEST_TIMEOUT
    )
    assert response.status_code == 200, response.text
    assert np.asarray(response.json()["predictions"][0]["probabilities"]).shape == (10,)


@pytest.mark.parametrize(
    ("flags", "tensor_limit", "gzip_limit"),
    [
        pytest.param({}, 4 * 64 * MIB, 64 * MIB, id="defaults"),
        pytest.param({"max_request_bytes": 200 * MIB}, 800 * MIB, 100 * MIB, id="gzip-smaller"),
        pytest.param({"max_tensor_bytes": 1000}, 1000, 64 * MIB, id="explicit"),
        pytest.param({"max_tensor_bytes": -1}, None, 64 * MIB, id="no-tensor-limit"),
    ],
)
def test_the_limits_resolve_from_the_flags(
    flags: dict[str, int], tensor_limit: int | None, gzip_limit: int
) -> None:
    from server.options import ServerOptions

    options = ServerOptions(**flags)
    assert options.tensor_byte_limit() == tensor_limit
    assert options.gzip_body_limit() == gzip_limit
