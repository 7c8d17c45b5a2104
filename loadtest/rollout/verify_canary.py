"""The canary's post-deployment verification as rollout checks: its served answers match its
SavedModel, its served metrics equal its model card, its p99 is within the rollout's SLO."""

from __future__ import annotations

import logging
from pathlib import Path

from clients.errors import ServingClientError
from loadtest.rollout.compare import BREACH, Check
from loadtest.rollout.sides import Side
from loadtest.settings import LoadSettings

__all__ = ["verify_canary"]

logger = logging.getLogger(__name__)

SHORT_NAMES = {
    "served version is the exported one": "served version",
    "predictions match the SavedModel": "vs SavedModel",
    "metrics equal the card": "vs model card",
    "p99 within SLO": "p99 within SLO",
}


def verify_canary(
    settings: LoadSettings, canary: Side, models_root: Path | None, slo_p99_ms: float
) -> tuple[str | None, list[Check], list[str]]:
    """The verification's section title and checks, or (None, [], notes) when the canary's
    exported version has no test split to verify with.

    A canary that refuses the verification's requests fails it; one whose export cannot be
    read is noted, as the held-out comparison is when there are no held-out examples.
    """
    from monitoring.reference import ReferenceError as NoReferenceError
    from monitoring.verify.checks import VerifySettings, verify_deployment
    from monitoring.verify.savedmodel import SavedModelError

    if models_root is None:
        return None, [], ["canary not verified: no models root for its test split"]
    verify_settings = VerifySettings(
        settings.model,
        models_root=models_root,
        version=canary.version,
        label=canary.label,
        slo_p99_ms=slo_p99_ms,
        timeout=max(settings.timeout, 30.0),
    )
    try:
        result = verify_deployment({settings.transport: settings.target_host}, verify_settings)
    except (NoReferenceError, SavedModelError) as err:
        return None, [], [f"canary not verified: {err}"]
    except (ServingClientError, ValueError) as err:
        logger.warning("the canary failed its verification: %s", err)
        reason: str | None = f"{BREACH}: verification failed: {err}"
        return (
            "verify canary",
            [Check("verification", "", "failed", passed=False, reason=reason)],
            [],
        )
    checks = []
    for check in result.checks:
        name = SHORT_NAMES.get(check.name, check.name)
        reason = None
        if check.passed is False:
            reason = f"{BREACH}: verify: {check.name}: {check.detail}"
        checks.append(Check(name, "", "", check.detail, "", check.passed, reason))
    title = f"verify canary (version {result.version}, {result.rows} test rows)"
    return title, checks, []
