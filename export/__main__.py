"""Command line: `python -m export keras FILE --name NAME`, `examples`, `list` and `diff OLD NEW`."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tflog
from export.serving_check.cli import add_parser as add_check_serving_parser
from export.serving_check.cli import run as run_check_serving

if TYPE_CHECKING:
    from export.spec import Task

tflog.quiet()

# Example name -> (version, builder keyword arguments). tabular gets a second, differently
# trained version so the `stable` and `canary` labels in serving_config/ have two to point at.
EXAMPLE_PLAN: dict[str, list[tuple[int, dict[str, Any]]]] = {
    "tabular": [(1, {}), (2, {"hidden_units": 32, "seed": 7})],
    "digits": [(1, {})],
    "regressor": [(1, {})],
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m export", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-dir",
        type=Path,
        default=Path("models"),
        help="where model folders live (default: models)",
    )
    common.add_argument(
        "--keep", type=int, help="after publishing, keep only the newest N versions"
    )
    common.add_argument(
        "-v", "--verbose", action="store_true", help="show Keras training progress per epoch"
    )

    keras_cmd = sub.add_parser(
        "keras", parents=[common], help="export a saved Keras model (.keras)"
    )
    keras_cmd.add_argument("model", type=Path, help="path to the .keras file")
    keras_cmd.add_argument(
        "--name", required=True, help="model name (the folder and the name clients use)"
    )
    keras_cmd.add_argument(
        "--version", type=int, help="version number (default: next free integer)"
    )
    task = keras_cmd.add_mutually_exclusive_group()
    task.add_argument(
        "--classify",
        action="store_true",
        help="softmax classifier: add class outputs and a classify signature",
    )
    task.add_argument(
        "--regress", action="store_true", help="single-value output: add a regress signature"
    )
    keras_cmd.add_argument("--class-names", help="comma-separated class names (with --classify)")
    keras_cmd.add_argument(
        "--output-names", help="comma-separated output names (default: the model's)"
    )
    keras_cmd.add_argument(
        "--custom-objects",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module (dotted name or .py file) to import before loading, defining the"
        " model's own classes with @keras.saving.register_keras_serializable() (repeatable)",
    )
    keras_cmd.add_argument(
        "--unsafe-deserialization",
        action="store_true",
        help="let Keras run Python code stored in the file (Lambda layers). Off by default"
        " because loading such a file runs whatever code it holds: use only for files you trust",
    )
    keras_cmd.add_argument(
        "--input-spec",
        action="append",
        default=[],
        metavar="NAME:DTYPE:SHAPE",
        help="a serving input, for models that declare none (subclassed): the shape of one"
        " example, ? for a free axis, e.g. features:float32:4 or text:string: (repeatable)",
    )
    keras_cmd.add_argument(
        "--examples",
        type=Path,
        help=".npz of held-out inputs keyed by input name, for warmup, validation and the"
        " version's test split",
    )
    keras_cmd.add_argument(
        "--reference",
        type=Path,
        help=".npz of training inputs keyed by input name: up to 500 rows become the"
        " reference sample that drift checks compare with",
    )
    keras_cmd.add_argument(
        "--test-labels",
        type=Path,
        help=".npy of labels of the --examples rows, in order (for accuracy checks)",
    )

    examples_cmd = sub.add_parser(
        "examples", parents=[common], help="train and export the example models"
    )
    examples_cmd.add_argument(
        "--only", nargs="+", choices=sorted(EXAMPLE_PLAN), help="export only these"
    )
    examples_cmd.add_argument(
        "--version", type=int, help="export a new version with this number (needs --only)"
    )
    list_cmd = sub.add_parser("list", help="list published versions with their test metrics")
    list_cmd.add_argument("--base-dir", type=Path, default=Path("models"))
    add_check_serving_parser(sub)
    from export.diff import add_diff_parser

    add_diff_parser(sub)
    return parser


def _run_list(args: argparse.Namespace) -> int:
    from exported import list_versions, read_card

    base = args.base_dir
    models = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for model_dir in models:
        for version in list_versions(model_dir):
            card = read_card(model_dir / str(version)).data
            test = card.get("metrics", {}).get("test", {})
            metrics = ", ".join(f"{k}={v:.3f}" for k, v in test.items())
            signatures = ", ".join(card["signatures"])
            made = card.get("exported_with")  # older cards do not say
            made_with = (
                f"TF {made['tensorflow']}, Keras {made['keras']}" if made else "TF not recorded"
            )
            print(f"{model_dir.name:>10} v{version}  {signatures:<28} {made_with:<24} {metrics}")
    if not models:
        print(f"no models under {base}")
    return 0


def _run_keras(args: argparse.Namespace) -> list[Path]:
    from export.keras_loading import parse_input_spec
    from export.keras_model import spec_from_keras
    from export.pipeline import export_model

    def split(text: str | None) -> list[str] | None:
        return [part.strip() for part in text.split(",")] if text else None

    task: Task = "classifier" if args.classify else "regressor" if args.regress else "generic"
    spec = spec_from_keras(
        args.model,
        args.name,
        task=task,
        class_names=split(args.class_names),
        output_names=split(args.output_names),
        examples=args.examples,
        reference=args.reference,
        test_labels=args.test_labels,
        custom_objects=tuple(args.custom_objects),
        unsafe_deserialization=args.unsafe_deserialization,
        input_specs=tuple(parse_input_spec(text) for text in args.input_spec),
    )
    return [export_model(spec, args.base_dir, version=args.version, keep=args.keep)]


def _run_examples(args: argparse.Namespace) -> list[Path]:
    from export.examples import builders
    from export.pipeline import export_model

    if args.version is not None and not args.only:
        raise SystemExit("--version needs --only (a version number belongs to one model)")
    published = []
    for name in args.only or EXAMPLE_PLAN:
        plan = EXAMPLE_PLAN[name] if args.version is None else [(args.version, {})]
        for version, options in plan:
            if args.version is None and (args.base_dir / name / str(version)).exists():
                print(f"{name} version {version}: exists, skipping")
                continue
            started = time.perf_counter()
            print(f"{name} version {version}: training")
            spec = builders()[name](verbose=2 if args.verbose else 0, **options)
            print(f"{name} version {version}: test metrics {spec.card['metrics']['test']}")
            published.append(export_model(spec, args.base_dir, version=version, keep=args.keep))
            print(f"{name} version {version}: published in {time.perf_counter() - started:.1f}s")
    return published


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "list":
        return _run_list(args)
    if args.command == "check-serving":
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        return run_check_serving(args)
    if args.command == "diff":
        from export.diff import run_diff

        return run_diff(args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from export.publish import PublishError
    from export.validate import ValidationError

    try:
        paths = _run_keras(args) if args.command == "keras" else _run_examples(args)
    except (PublishError, ValidationError, ValueError, OSError) as err:
        print(f"export failed: {err}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"published {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
