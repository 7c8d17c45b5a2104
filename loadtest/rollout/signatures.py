"""The rollout's first gate: the canary's signatures against the stable's, as the server serves them.

The signatures come from GetModelMetadata, not from the exported folders: they are what the
server actually loaded for each label or version, the check needs no models root, and it works
the same against tensorflow/serving. exported.signature_diff judges each change. A breaking change
meant to ship (a signature retired on purpose) is let through by naming its signature in
--accept-breaking: it is shown and noted, not gated.
"""

from __future__ import annotations

from collections.abc import Collection

from exported.signature_diff import diff_signatures
from exported.signature_specs import Change, spec_from_metadata
from loadtest.rollout.compare import BREACH, Check
from loadtest.served import ServedModel

__all__ = [
    "accepted_notes",
    "signature_changes",
    "signature_checks",
    "signature_title",
    "stops",
]


def signature_changes(stable: ServedModel, canary: ServedModel) -> list[Change]:
    """Every change from the stable version's signatures to the canary's.

    Raises:
        KeyError: a signature the server reported without inputs, outputs or a dtype.
    """
    return diff_signatures(
        {key: spec_from_metadata(signature) for key, signature in stable.signatures.items()},
        {key: spec_from_metadata(signature) for key, signature in canary.signatures.items()},
    )


def signature_title(stable: ServedModel, canary: ServedModel) -> str:
    return f"signatures (served: version {stable.version} -> {canary.version})"


def signature_checks(changes: list[Change], accepted: Collection[str] = ()) -> list[Check]:
    """A row per change (a breaking one fails the check with its reason, unless its signature
    is in accepted: shown, not gated), or one row saying the signatures are the same."""
    if not changes:
        return [Check("signatures", "", "", "identical", "none breaking", True)]
    checks = []
    for change in changes:
        gated = change.breaking and change.signature not in accepted
        checks.append(
            Check(
                f"{change.signature}: {change.what}",
                change.before,
                change.after,
                change.kind,
                "accepted" if change.breaking and not gated else "none breaking",
                None if change.breaking and not gated else not gated,
                f"{BREACH}: signature {change.line()}" if gated else None,
            )
        )
    return checks


def accepted_notes(changes: list[Change], accepted: Collection[str]) -> list[str]:
    """A note per breaking change let through by --accept-breaking."""
    return [
        f"breaking change accepted: {change.line()}"
        for change in changes
        if change.breaking and change.signature in accepted
    ]


def stops(changes: list[Change], accepted: Collection[str]) -> bool:
    """Whether a breaking change outside the accepted signatures stops the check."""
    return any(change.breaking and change.signature not in accepted for change in changes)
