"""Check TF Serving config files and report each problem as FILE:LINE: message."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from serving_config.batching_checks import check_batching_parameters
from serving_config.model_checks import check_model_server_config
from serving_config.model_config import DEFAULT_MODELS_ROOT
from serving_config.schema import (
    BatchingParameters,
    ConfigParseError,
    ModelServerConfig,
    MonitoringConfig,
    message_class,
    parse_text,
)
from serving_config.text_tree import Finding, TextNode, line_of, read_text_tree

if TYPE_CHECKING:
    from google._upb._message import Descriptor as UpbDescriptor

# What a message class's DESCRIPTOR is as the protobuf stubs see it: with the upb backend it
# is the C type, which isinstance() still accepts as a Descriptor.
MessageDescriptor: TypeAlias = "Descriptor | UpbDescriptor"

_UNKNOWN_FIELD = re.compile(r'Message type "([\w.]+)" has no field named "([^"]+)"')


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a config file, at a 1-based line."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


def infer_kind(path: str | Path) -> str | None:
    """Guess a config's kind (a key of schema.KINDS) from its file name, or None."""
    name = Path(path).name.lower()
    if "batching" in name:
        return "batching"
    if "monitoring" in name:
        return "monitoring"
    if "ssl" in name:
        return "ssl"
    if name == "models.config" or re.search(r"model.*config", name):
        return "models"
    return None


def check_file(
    path: str | Path, kind: str | None = None, models_root: str | Path | None = None
) -> list[Problem]:
    """Check one config file; kind defaults to what its name suggests.

    Base paths under /models/ are looked up in models_root (default: the repository's models/).
    A file that cannot be read is reported as a Problem, not raised.

    Raises:
        KeyError: kind is given and is not one of schema.KINDS.
    """
    file = str(path)
    kind = kind or infer_kind(path)
    if kind is None:
        return [Problem(file, 1, "cannot tell the config kind from the file name; pass --kind")]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return [Problem(file, 1, f"cannot read: {err}")]
    return check_text(text, kind, file=file, models_root=models_root)


def check_text(
    text: str, kind: str, file: str = "<text>", models_root: str | Path | None = None
) -> list[Problem]:
    """Check the text of a config of the given kind; an empty list means it is fine.

    Raises:
        KeyError: kind is not one of schema.KINDS.
    """
    cls = message_class(kind)
    try:
        message = parse_text(cls, text)
    except ConfigParseError as err:
        return [Problem(file, err.line or 1, _describe_parse_error(err, cls.DESCRIPTOR))]
    tree = read_text_tree(text)
    findings: list[Finding] = []
    if cls is ModelServerConfig:
        root = Path(models_root) if models_root is not None else DEFAULT_MODELS_ROOT
        findings = check_model_server_config(message, tree, root.expanduser().resolve())
    elif cls is BatchingParameters:
        findings = check_batching_parameters(message, tree)
    elif cls is MonitoringConfig:
        findings = _check_monitoring(message, tree)
    return [Problem(file, line, message) for line, message in findings]


def describe_config(path: str | Path, kind: str | None = None) -> str:
    """Summarise a config that passed the checks, e.g. "3 models" or "BatchingParameters".

    Raises:
        OSError: the file cannot be read.
        ConfigParseError: the file does not parse.
        KeyError: the kind is unknown.
    """
    cls = message_class(kind or infer_kind(path) or "")
    if cls is not ModelServerConfig:
        return cls.DESCRIPTOR.name
    config = parse_text(cls, Path(path).read_text(encoding="utf-8"))
    count = len(config.model_config_list.config)
    return f"{count} model{'' if count == 1 else 's'}"


def _describe_parse_error(err: ConfigParseError, root: MessageDescriptor) -> str:
    """Reword text_format's message; for unknown fields name the field and the closest match."""
    match = _UNKNOWN_FIELD.search(err.message)
    if match is None:
        column = f" at column {err.column}" if err.column else ""
        hint = ""
        if err.message == 'Expected "{".' and root is BatchingParameters.DESCRIPTOR:
            hint = " (wrapper fields take a block, e.g. max_batch_size { value: 32 })"
        return f"syntax error{column}: {err.message}{hint}"
    type_name, field = match.groups()
    known = _field_names(root, type_name)
    guess = difflib.get_close_matches(field, known, n=1)
    hint = f' (did you mean "{guess[0]}"?)' if guess else ""
    return f'unknown field "{field}" in {type_name}{hint}'


def _field_names(root: MessageDescriptor, full_name: str) -> list[str]:
    """Return the field names of the message type full_name reachable from root."""
    seen: set[str] = set()
    stack: list[MessageDescriptor] = [root]
    while stack:
        descriptor = stack.pop()
        if descriptor.full_name == full_name:
            return [f.name for f in descriptor.fields]
        seen.add(descriptor.full_name)
        stack.extend(
            f.message_type
            for f in descriptor.fields
            if f.type == FieldDescriptor.TYPE_MESSAGE
            and f.message_type is not None  # always set on a message field
            and f.message_type.full_name not in seen
        )
    return []


def _check_monitoring(config: Any, tree: TextNode) -> list[Finding]:
    """The Prometheus path must be an absolute URL path, as the exporter matches it exactly.

    config is a MonitoringConfig message (typed Any: its fields have no stubs).
    """
    path = config.prometheus_config.path
    if path and not path.startswith("/"):
        line = line_of(tree, "prometheus_config", "path")
        return [(line, f'prometheus_config.path "{path}" must start with "/"')]
    return []
