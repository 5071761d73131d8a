"""Shrink a case on which our engine and iam-simulate disagree to a minimal one that still does.

A generated disagreement carries several policies with a dozen statements; the rule at fault is
usually one statement and one context key. Greedy delta-debugging: try every one-step removal
(a layer, a policy, an org level, a statement, a condition entry, a list value, a context key),
keep the first that leaves the same pair of decisions, repeat until nothing can go. All candidates
of a round go to node in one call, so a case shrinks in a few seconds.

    python tests/differential/minimize.py DISAGREEMENTS.json   # a case, or a list of cases
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

if __package__ in (None, ""):  # run as a script: make `differential` and `ecr_audit` importable
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2])]
    from differential import iam_simulate  # noqa: E402
else:
    from . import iam_simulate

OPTIONAL_LAYERS = ("resourcePolicy", "permissionBoundaries", "serviceControlPolicies",
                   "resourceControlPolicies", "sessionPolicy", "endpointPolicies")


def _documents(case: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every policy document of a case, with a label; yields the live objects (to edit copies)."""
    for index, document in enumerate(case.get("identityPolicies", [])):
        yield f"identityPolicies[{index}]", document
    for index, document in enumerate(case.get("permissionBoundaries", [])):
        yield f"permissionBoundaries[{index}]", document
    for layer in ("serviceControlPolicies", "resourceControlPolicies"):
        for level in case.get(layer, []):
            for index, document in enumerate(level["policies"]):
                yield f"{layer}[{level['orgIdentifier']}][{index}]", document
    if isinstance(case.get("resourcePolicy"), dict):
        yield "resourcePolicy", case["resourcePolicy"]


def _edits(case: dict[str, Any]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """One-step removals, as functions that edit a deep copy of `case` in place."""
    for layer in OPTIONAL_LAYERS:
        if layer in case:
            yield lambda c, layer=layer: c.pop(layer)
    if "simulation" in case:
        yield lambda c: c.pop("simulation")
    for index in range(len(case.get("identityPolicies", []))):
        yield lambda c, index=index: c["identityPolicies"].pop(index)
    for layer in ("serviceControlPolicies", "resourceControlPolicies"):
        for position, level in enumerate(case.get(layer, [])):
            yield lambda c, layer=layer, position=position: c[layer].pop(position)
            for index in range(len(level["policies"])):
                yield lambda c, layer=layer, position=position, index=index: c[layer][position]["policies"].pop(index)
    for position, (label, document) in enumerate(_documents(case)):
        statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]

        def on_statements(edit, position=position):
            def apply(c):
                target = list(_documents(c))[position][1]
                body = target["Statement"]
                target["Statement"] = body = body if isinstance(body, list) else [body]
                edit(body)
            return apply

        for index in range(len(statements)):
            yield on_statements(lambda body, index=index: body.pop(index))
            statement = statements[index]
            for element in ("Sid", "Condition"):
                if element in statement:
                    yield on_statements(lambda body, index=index, element=element: body[index].pop(element))
            for element in ("Action", "NotAction", "Resource", "NotResource"):
                values = statement.get(element)
                if isinstance(values, list) and len(values) > 1:
                    for keep in values:
                        yield on_statements(lambda body, index=index, element=element, keep=keep:
                                            body[index].__setitem__(element, [keep]))
            for operator, entries in statement.get("Condition", {}).items():
                for key, values in entries.items():
                    def drop_entry(body, index=index, operator=operator, key=key):
                        condition = body[index]["Condition"]
                        condition[operator].pop(key)
                        if not condition[operator]:
                            condition.pop(operator)
                        if not condition:
                            body[index].pop("Condition")
                    yield on_statements(drop_entry)
                    if isinstance(values, list) and len(values) > 1:
                        for keep in values:
                            yield on_statements(lambda body, index=index, operator=operator, key=key, keep=keep:
                                                body[index]["Condition"][operator].__setitem__(key, [keep]))
    for key in case["request"].get("context", {}):
        yield lambda c, key=key: c["request"]["context"].pop(key)


def _decide_ours(case: dict[str, Any]) -> str | None:
    from ecr_audit.policy.simulate import run_case

    try:
        return run_case(case)["decision"]
    except Exception:  # a shrink that breaks our parser is not a smaller reproduction
        return None


def minimize(case: dict[str, Any], install: Path, max_rounds: int = 200) -> dict[str, Any]:
    """The smallest case reachable by removals that keeps (ours, iam-simulate) as it was."""
    target = (_decide_ours(case), iam_simulate.decide([case], install)[0].get("decision"))
    if target[0] == target[1]:
        raise ValueError(f"{case.get('name')}: both evaluators answer {target[0]}; nothing to minimize")
    current = copy.deepcopy(case)
    for _ in range(max_rounds):
        candidates = []
        for edit in _edits(current):
            candidate = copy.deepcopy(current)
            edit(candidate)
            candidates.append(candidate)
        if not candidates:
            break
        theirs = iam_simulate.decide(candidates, install)
        for candidate, their_result in zip(candidates, theirs):
            if their_result.get("decision") == target[1] and _decide_ours(candidate) == target[0]:
                current = candidate
                break
        else:
            break
    return current


def main(argv: list[str]) -> int:
    loaded = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    cases = loaded if isinstance(loaded, list) else [loaded]
    install = iam_simulate.ensure_installed()
    for case in cases:
        print(json.dumps(minimize(case, install)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
