"""Export one model: stage, save, add warmup and card, validate, then publish atomically."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import tensorflow as tf

from export import card, publish, reference_data, warmup
from export.method_names import set_method_names
from export.signatures import METHOD_NAMES, ServingModule, build_signatures, eager_reference
from export.spec import SERVING_DEFAULT, ServingSpec
from export.validate import validate_export
from exported.layout import assets_dir, card_path

log = logging.getLogger(__name__)


def export_model(
    spec: ServingSpec, base_dir: Path, version: int | None = None, keep: int | None = None
) -> Path:
    """Publish `spec` as `<base_dir>/<name>/<version>` and return that folder.

    The SavedModel is built and validated in a staging folder beside the versions and renamed
    into place only when it passes, so a polling server never sees a partial version.

    Raises:
        PublishError: the name is not a valid model name, or the version exists already or
            is being exported by another process.
        ValidationError: the export does not reload or disagrees with the Keras model.
    """
    publish.check_model_name(spec.name)
    model_dir = Path(base_dir) / spec.name
    version, staging = publish.reserve_version(model_dir, version)
    try:
        _write_saved_model(spec, staging, version)
        target = publish.publish(staging, model_dir, version)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("published %s", target)
    if keep:
        removed = publish.prune(model_dir, keep)
        if removed:
            log.info("removed old versions %s (keeping %d)", removed, keep)
    return target


def _write_saved_model(spec: ServingSpec, staging: Path, version: int) -> None:
    module = ServingModule(spec)
    functions = build_signatures(module, spec)
    concrete = {name: fn.get_concrete_function() for name, fn in functions.items()}
    module.track_state(list(concrete.values()))
    log.info("saving SavedModel with signatures %s", ", ".join(concrete))
    tf.saved_model.save(module, str(staging), signatures=concrete)
    set_method_names(staging, {name: METHOD_NAMES[name] for name in concrete})
    records = warmup.build_records(spec)
    warmup.write_records(warmup.warmup_path(staging), records)
    log.info("wrote %d warmup requests", len(records))
    state = card.saved_state(staging, module.model_variables)
    card.write_card(card_path(staging), card.build_card(spec, version, concrete, state))
    reference_data.write_reference_data(spec, assets_dir(staging), concrete[SERVING_DEFAULT])
    checked = validate_export(staging, list(concrete), eager_reference(functions))
    log.info("validation passed: %d warmup requests agree with the Keras model", checked)
