"""`python -m deploy_checks`: check the deployment files, render an overlay, or regenerate rules.

python -m deploy_checks [check]               what `make k8s-check` runs
python -m deploy_checks render prod [--image registry/tfserving-bundle:3]
python -m deploy_checks generate              rewrite the PrometheusRule from the rules file
python -m deploy_checks release [set X.Y.Z]   check (or move) the TF Serving release everywhere
"""

from __future__ import annotations

import argparse
import sys
import time

from deploy_checks import dashboard, release, rules
from deploy_checks.kustomize import RenderError, render_overlay, render_overlay_text
from deploy_checks.layout import DASHBOARD, PROMETHEUS_RULE, ROOT, RULE_TESTS, RULES, overlays
from deploy_checks.schemas import KUBERNETES_VERSIONS, validation_problems
from deploy_checks.tools import ToolMissing
from serving_config.release import ReleaseError, target_release


def check() -> int:
    """Render and validate every overlay, then check the rules and the dashboard."""
    failed = False
    for overlay in overlays():
        started = time.perf_counter()
        try:
            objects = render_overlay(overlay)
        except RenderError as err:
            print(f"FAIL overlay {overlay}: {err}")
            failed = True
            continue
        problems = [p for v in KUBERNETES_VERSIONS for p in validation_problems(objects, v)]
        for problem in problems:
            print(f"FAIL overlay {overlay}: {problem}")
        failed |= bool(problems)
        if not problems:
            kinds = ", ".join(sorted({obj["kind"] for obj in objects}))
            took = time.perf_counter() - started
            print(
                f"ok   overlay {overlay}: {len(objects)} objects valid for Kubernetes "
                f"{' and '.join(KUBERNETES_VERSIONS)} ({kinds}) in {took:.1f}s"
            )
    for name, problems in [
        (f"rules {RULES.relative_to(ROOT)} (promtool)", rules.promtool_problems()),
        (
            f"rule tests {RULE_TESTS.relative_to(ROOT)} (promtool test rules)",
            rules.promtool_test_problems(),
        ),
        (f"{PROMETHEUS_RULE.relative_to(ROOT)}", rules.prometheus_rule_problems()),
        (
            f"dashboard {DASHBOARD.relative_to(ROOT)}",
            dashboard.structure_problems(dashboard.load()),
        ),
    ]:
        for problem in problems:
            print(f"FAIL {name}: {problem}")
        failed |= bool(problems)
        if not problems:
            print(f"ok   {name}")
    return 1 if failed else 0


def check_release() -> int:
    """Report every file whose statement of the TF Serving release disagrees with the file."""
    target = target_release()
    wrong = release.disagreements(release=target)
    for mention in wrong:
        print(f"FAIL {mention}")
    if not wrong:
        count = len(release.mentions(release=target))
        print(
            f"ok   TF Serving {target}: {count} mentions agree (images, GPU tag, TensorFlow pins)"
        )
    return 1 if wrong else 0


def set_release(version: str | None) -> int:
    """Move the release file and every mention to version."""
    if not version:
        print("FAIL release set needs a version, e.g. 2.22.0", file=sys.stderr)
        return 2
    try:
        changed = release.set_release(version)
    except ReleaseError as err:
        print(f"FAIL {err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path}")
    print("then: make setup (the new TensorFlow), make op-registry, make export, make check-config")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy_checks",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")
    commands.add_parser(
        "check",
        help="render and validate every k8s overlay, promtool the rules, check the "
        "PrometheusRule and the dashboard (the default)",
    )
    render = commands.add_parser("render", help="print an overlay's manifests, for kubectl apply")
    render.add_argument("overlay", choices=overlays())
    render.add_argument(
        "--image", help="run this image (e.g. the one `make image` built) instead of the stock one"
    )
    commands.add_parser(
        "generate", help="rewrite k8s/components/monitoring/prometheusrule.yaml from the rules file"
    )
    release_cmd = commands.add_parser(
        "release",
        help="check that every file naming the TF Serving release (image tags, the TensorFlow"
        " pins) agrees with serving_config/tfserving_release.txt; `set X.Y.Z` moves them all",
    )
    release_cmd.add_argument("action", nargs="?", choices=["check", "set"], default="check")
    release_cmd.add_argument("version", nargs="?", help="with set: the new release, e.g. 2.22.0")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            return check_release() if args.action == "check" else set_release(args.version)
        if args.command == "generate":
            print(f"wrote {rules.write_prometheus_rule().relative_to(ROOT)}")
            return 0
        if args.command == "render":
            print(render_overlay_text(args.overlay, args.image), end="")
            return 0
        return check()
    except RenderError as err:
        print(f"FAIL {err}", file=sys.stderr)
        return 1
    except ToolMissing as err:
        print(f"FAIL {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
