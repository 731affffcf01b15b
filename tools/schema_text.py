"""Facts about a schema for the CLI's help, derived from types alone (never prose).

``shape`` writes the keys a JSON flag takes with their types, compactly:
``{type: text|json_schema|json_object, json_schema: {name, schema, strict}}``.
``minimal`` builds the smallest value the schema accepts, for the example line of a
command. ``bounds`` gives the allowed range of a number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.gen_catalogue import Resolver

Schema = dict[str, Any]

MAX_SHAPE = 160
# Values listed for one key or enum; a longer list is cut ("a|b|c|d|…"), as a line
# of help wraps only at spaces.
MAX_VALUES = 5
# Placeholders for ids, by the field's name: what a user recognises as "an id goes here".
ID_PLACEHOLDERS = {
    "file": "file-abc123",
    "vector_store": "vs_abc123",
    "batch": "batch_abc123",
    "assistant": "asst_abc123",
    "thread": "thread_abc123",
    "run": "run_abc123",
    "step": "step_abc123",
    "message": "msg_abc123",
    "response": "resp_abc123",
    "conversation": "conv_abc123",
    "item": "item_abc123",
    "container": "cntr_abc123",
    "fine_tuning_job": "ftjob-abc123",
    "checkpoint": "ftckpt_abc123",
    "eval": "eval_abc123",
    "output_item": "outputitem_abc123",
    "upload": "upload_abc123",
    "video": "video_abc123",
    "skill": "skill_abc123",
    "project": "proj_abc123",
    "user": "user_abc123",
    "invite": "invite-abc123",
    "service_account": "svc_acct_abc123",
    "key": "key_abc123",
    "api_key": "key_abc123",
    "admin_api_key": "key_abc123",
    "certificate": "cert_abc123",
    "group": "group_abc123",
    "role": "role_abc123",
    "call": "rtc_abc123",
    "session": "sess_abc123",
    "completion": "chatcmpl-abc123",
    "model": "gpt-4o-mini",
    "voice": "voice_abc123",
    "consent": "consent_abc123",
    "character": "char_abc123",
    "permission": "cp_abc123",
    "fine_tuned_model_checkpoint": "ft:gpt-4o-mini-2024-07-18:acme::abc123",
    "part": "part_abc123",
    "alert": "alert_abc123",
    "rate_limit": "rl_abc123",
}

# Text a person would type, by the field's name: the rule behind every example line.
# A name not listed here falls back to itself, which tests/unit/test_examples.py refuses
# in an example, so a new field in the spec is noticed rather than shown as `--x x`.
TEXT_VALUES = {
    "prompt": "A lighthouse on a rocky coast at dawn, in watercolour",
    "input": "What is the capital of Australia?",
    "content": "What is the capital of Australia?",
    "text": "The parcel arrived two days late and the box was damaged.",
    "query": "How do I reset my password?",
    "instructions": "Answer in one short paragraph.",
    "name": "support-bot",
    "role_name": "data-analyst",
    "role": "user",
    "email": "ada@example.com",
    "recipients": "ops@example.com",
    "language": "en",
    "filename": "requests.jsonl",
    "mime_type": "application/jsonl",
    "user": "customer-4821",
    "reference": "Canberra",
    "model_sample": "The capital of Australia is Canberra.",
    "permissions": "api.model.read",
    "default_version": "2",
    "version": "2",
    "target_uri": "tel:+14155550123",
    "sdp": "v=0",
    "certificate": "-----BEGIN CERTIFICATE-----MIIB...-----END CERTIFICATE-----",
    "consent": "consent_abc123",
    "value": "ek_abc123",
}


def placeholder(name: str) -> str | None:
    """A recognisable id for a field or path parameter named ``name``, if it is an id."""
    base = name.removesuffix("_id").removesuffix("_ids")
    if name in ("model", "fine_tuned_model_checkpoint"):
        return ID_PLACEHOLDERS[name]
    if name.endswith("_file"):
        # training_file, validation_file, input_file_id: an uploaded file's id.
        return ID_PLACEHOLDERS["file"]
    if name.endswith(("_id", "_ids")) or name == "id":
        if base not in ID_PLACEHOLDERS and base.endswith("_file"):
            return ID_PLACEHOLDERS["file"]
        return ID_PLACEHOLDERS.get(base, f"{base.replace('_', '-')}_abc123")
    return None


def _kind(schema: Schema) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        rest = [k for k in kind if k != "null"]
        return "|".join(rest) if rest else None
    return kind if isinstance(kind, str) else None


def shape(resolver: Resolver, schema: Schema, depth: int = 0) -> str:
    """The value's shape: keys with their types at the top, key names below that."""
    text = _shape(resolver, schema, depth, set())
    if len(text) > MAX_SHAPE and depth == 0:
        # Too deep to read in a line: the top-level keys alone say more than a cut.
        text = _shape(resolver, schema, 1, set())
    return text if len(text) <= MAX_SHAPE else _cut(text)


def _cut(text: str) -> str:
    """``text`` cut after a whole key, with ``…`` and its brackets closed."""
    end = text.rfind(", ", 0, MAX_SHAPE - 8)
    kept = text[:end] if end > 0 else text[: MAX_SHAPE - 8]
    closers = []
    for char in kept:
        if char in "[{":
            closers.append("]" if char == "[" else "}")
        elif char in "]}" and closers:
            closers.pop()
    return kept + ", …" + "".join(reversed(closers))


def _shape(resolver: Resolver, schema: Schema, depth: int, seen: set[str]) -> str:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in seen:
            return "{…}"
        seen = seen | {ref}
    leaves = _leaves(resolver, schema)
    objects = [leaf for leaf in leaves if _is_object_leaf(leaf)]
    others = [leaf for leaf in leaves if not _is_object_leaf(leaf)]
    parts: list[str] = []
    for leaf in others:
        part = _scalar_shape(resolver, leaf, depth, seen)
        if part not in parts:
            parts.append(part)
    if "string" in parts:
        # Free text is accepted: the listed values are only suggestions, left to --help.
        parts = [p for p in parts if p == "string" or not _is_choice(p, others)]
    if objects:
        parts.append(_objects_shape(resolver, objects, depth, seen))
    return "|".join(parts) if parts else "any"


def _is_choice(part: str, leaves: list[Schema]) -> bool:
    """Whether ``part`` was written from a leaf's enum or const (not a type or a list)."""
    return any(
        ("const" in leaf or leaf.get("enum")) and part == _choice_text(leaf) for leaf in leaves
    )


def _choice_text(leaf: Schema) -> str:
    if "const" in leaf:
        return str(leaf["const"])
    return _values([str(v) for v in leaf.get("enum") or [] if v is not None])


def _leaves(resolver: Resolver, schema: Schema) -> list[Schema]:
    """The alternatives, with an object that is only a union of objects opened up."""
    out: list[Schema] = []
    for leaf in resolver.alternatives(schema):
        union = leaf.get("oneOf") or leaf.get("anyOf")
        if union and not leaf.get("properties"):
            for alternative in union:
                out.extend(_leaves(resolver, alternative))
        else:
            out.append(leaf)
    return out


def _is_object_leaf(schema: Schema) -> bool:
    return _kind(schema) == "object" or "properties" in schema


def _scalar_shape(resolver: Resolver, leaf: Schema, depth: int, seen: set[str]) -> str:
    if "const" in leaf:
        return str(leaf["const"])
    enum = [v for v in leaf.get("enum") or [] if v is not None]
    if enum:
        return _values([str(v) for v in enum])
    kind = _kind(leaf)
    if kind == "array" or "items" in leaf:
        item = leaf.get("items") or {}
        if depth >= 2:
            return "[…]"
        return f"[{_shape(resolver, item, depth + 1, seen)}]"
    if kind == "string" and (leaf.get("format") == "binary" or "contentMediaType" in leaf):
        return "file"
    return kind or "any"


def _objects_shape(resolver: Resolver, objects: list[Schema], depth: int, seen: set[str]) -> str:
    """One object shape for a union of objects: keys merged, ``type`` consts joined."""
    keys: dict[str, list[Schema]] = {}
    for obj in objects:
        for name, prop in (obj.get("properties") or {}).items():
            keys.setdefault(name, []).append(prop)
    if not keys:
        extra = next((o.get("additionalProperties") for o in objects), None)
        if isinstance(extra, dict) and depth < 2:
            return "{KEY: " + _shape(resolver, extra, depth + 1, seen) + "}"
        return "{…}"
    if depth >= 1:
        names = []
        for name, props in keys.items():
            # A key that tells the alternatives apart (type, role) shows its values.
            values = _joined_consts(resolver, props) if len(props) > 1 or name == "type" else ""
            names.append(
                f"{name}: {values}"
                if (values and "|" in values) or (name == "type" and values)
                else name
            )
        return "{" + ", ".join(names) + "}"
    fields = []
    for name, props in keys.items():
        if name == "type":
            values = _joined_consts(resolver, props)
            if values:
                fields.append(f"type: {values}")
                continue
        fields.append(f"{name}: {_shape(resolver, props[0], depth + 1, seen)}")
    return "{" + ", ".join(fields) + "}"


def _joined_consts(resolver: Resolver, props: list[Schema]) -> str:
    values: list[str] = []
    for prop in props:
        for leaf in resolver.alternatives(prop):
            if "const" not in leaf and not leaf.get("enum"):
                return ""  # free text somewhere: not a discriminator
            for v in [leaf["const"]] if "const" in leaf else leaf.get("enum") or []:
                if v is not None and str(v) not in values:
                    values.append(str(v))
    return _values(values)


def _values(values: list[str]) -> str:
    return "|".join(values[:MAX_VALUES] + (["…"] if len(values) > MAX_VALUES else []))


def bounds(resolver: Resolver, schema: Schema) -> tuple[float | None, float | None]:
    """The inclusive minimum and maximum of a number, from its only numeric leaf."""
    for leaf in resolver.alternatives(schema):
        if _kind(leaf) in ("integer", "number"):
            low = leaf.get("minimum", leaf.get("exclusiveMinimum"))
            high = leaf.get("maximum", leaf.get("exclusiveMaximum"))
            # The limits of a 64-bit integer say only "any integer".
            return (None if _machine(low) else low), (None if _machine(high) else high)
    return None, None


def _machine(value: Any) -> bool:
    return isinstance(value, int | float) and abs(value) >= 2**53


def minimal(resolver: Resolver, schema: Schema, name: str = "", depth: int = 0) -> Any:
    """The smallest value ``schema`` accepts: required keys only, first alternatives."""
    if depth > 30:
        return {}
    leaves = _leaves(resolver, schema)
    if not leaves:
        return None
    leaf = leaves[0]
    if "const" in leaf:
        return leaf["const"]
    enum = [v for v in leaf.get("enum") or [] if v is not None]
    if enum:
        return enum[0]
    kind = _kind(leaf) or ("object" if "properties" in leaf else "string")
    if kind == "object" or "properties" in leaf:
        props = leaf.get("properties") or {}
        required = list(leaf.get("required") or [])
        return {k: minimal(resolver, props.get(k) or {}, k, depth + 1) for k in required}
    if kind == "array" or "items" in leaf:
        count = max(1, int(leaf.get("minItems") or 0))
        return [minimal(resolver, leaf.get("items") or {}, name, depth + 1) for _ in range(count)]
    if kind == "integer":
        low, high = leaf.get("minimum"), leaf.get("maximum")
        value = 1 if low is None or low <= 1 else int(low)
        return value if high is None or value <= high else int(high)
    if kind == "number":
        low = leaf.get("minimum")
        return 1 if low is None or low <= 1 else low
    if kind == "boolean":
        return True
    return placeholder(name) or _text(name, leaf)


def _text(name: str, leaf: Schema) -> str:
    if leaf.get("format") in ("uri", "url"):
        return "https://example.com"
    if leaf.get("format") == "email":
        return "user@example.com"
    return TEXT_VALUES.get(name) or name.replace("_", "-") or "text"
