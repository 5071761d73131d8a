"""Finding ids depend on content: the organisation, root, OU and policy ids that AWS (or an
emulator, afresh on each run) draws are replaced by names before hashing."""

from __future__ import annotations

from ecr_audit.findings.model import content_key, finding_id, organization_names


def _organization(org_id: str, root_id: str, ou_id: str, policy_id: str) -> dict:
    arn = f"arn:aws:organizations::111111111111:policy/{org_id}/service_control_policy/{policy_id}"
    return {"id": org_id, "management_account_id": "111111111111", "feature_set": "ALL", "levels": [
        {"id": root_id, "type": "ROOT", "name": "Root", "scps": [], "rcps": []},
        {"id": ou_id, "type": "ORGANIZATIONAL_UNIT", "name": "Workloads",
         "scps": [{"id": policy_id, "name": "ProtectEcr", "arn": arn, "aws_managed": False, "content": "{}"}],
         "rcps": []},
        {"id": "222222222222", "type": "ACCOUNT", "name": None, "scps": [], "rcps": []}]}


def _keys(org_id: str, root_id: str, ou_id: str, policy_id: str) -> list[tuple[str, ...]]:
    arn = f"arn:aws:organizations::111111111111:policy/{org_id}/service_control_policy/{policy_id}"
    names = organization_names(_organization(org_id, root_id, ou_id, policy_id))
    return [content_key(key, names) for key in (
        (f"scp:{ou_id}",), ("scp", ou_id, arn), (f"{arn}#0:DenyDelete",),
        (f"aws:PrincipalOrgID StringEquals [{org_id}] ({arn}#1)",), ("scp:222222222222",))]


def test_drawn_organisation_ids_give_way_to_names_in_finding_keys() -> None:
    first = _keys("o-aaaa1111", "r-ab12", "ou-ab12-11111111", "p-11111111")
    second = _keys("o-bbbb2222", "r-cd34", "ou-cd34-22222222", "p-22222222")
    assert first == second
    assert first[0] == ("scp:Root/Workloads",)
    assert first[1] == ("scp", "Root/Workloads", "scp:ProtectEcr")
    assert first[2] == ("scp:ProtectEcr#0:DenyDelete",)
    assert first[3] == ("aws:PrincipalOrgID StringEquals [organization] (scp:ProtectEcr#1)",)
    assert first[4] == ("scp:222222222222",)  # the account's own id is not drawn: it stays
    assert [finding_id("rule", key) for key in first] == [finding_id("rule", key) for key in second]


def test_keys_without_an_organisation_are_unchanged() -> None:
    assert content_key(("arn:aws:iam::111111111111:role/x", "push"), organization_names(None)) == \
        ("arn:aws:iam::111111111111:role/x", "push")
