"""The alternative users pick: a FastAPI app on uvicorn calling Keras `model.predict` per request.

Run it as `python -m bench.fastapi_baseline --model-dir DIR/tabular/N --port P`. The export
keeps no .keras file, so the model is rebuilt around the SavedModel with TFSMLayer, the way
Keras 3 documents reusing a SavedModel. The app is written as such apps usually are; its
access log is off so the baseline is not slowed by logging.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from bench.processes import HOST

log = logging.getLogger(__name__)


class KeywordTFSMLayer(keras.layers.TFSMLayer):  # type: ignore[misc, unused-ignore]  # Keras: Any
    """TFSMLayer for signatures that take named inputs: the dict is passed as keywords."""

    def call(self, inputs: dict[str, Any], training: bool = False) -> Any:
        return self.call_endpoint_fn(**inputs)


def load_keras_model(version_dir: Path) -> keras.Model:
    """A Keras model whose outputs are the serving_default signature's."""
    layer = KeywordTFSMLayer(str(version_dir), call_endpoint="serving_default")
    specs = layer.call_endpoint_fn.structured_input_signature[1]
    inputs = {
        name: keras.Input(shape=spec.shape[1:], name=name, dtype=spec.dtype.name)
        for name, spec in sorted(specs.items())
    }
    return keras.Model(inputs, layer(inputs))


class PredictBody(BaseModel):
    """TF Serving's row format: one object of named features per example."""

    instances: list[dict[str, float]]


def _plain(value: np.ndarray | np.generic) -> object:
    if isinstance(value, bytes | np.bytes_):
        return value.decode()
    return value.tolist()


def create_app(version_dir: Path, model_name: str = "tabular") -> FastAPI:
    """The app: POST /v1/models/<name>:predict answers {"predictions": [...]}."""
    model = load_keras_model(version_dir)
    names = list(model.input.keys()) if isinstance(model.input, dict) else model.input_names
    app = FastAPI()

    @app.post(f"/v1/models/{model_name}:predict")
    def predict(body: PredictBody) -> dict[str, list[dict[str, object]]]:
        batch = {
            name: np.array([row[name] for row in body.instances], dtype=np.float32)
            for name in names
        }
        outputs = model.predict(batch, verbose=0)
        return {
            "predictions": [
                {key: _plain(value[i]) for key, value in outputs.items()}
                for i in range(len(body.instances))
            ]
        }

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fastapi_baseline", description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True, help="a SavedModel version")
    parser.add_argument("--model-name", default="tabular")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    app = create_app(args.model_dir, args.model_name)
    log.info("FastAPI baseline serving %s on %s:%d", args.model_dir, HOST, args.port)
    uvicorn.run(app, host=HOST, port=args.port, workers=1, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
