"""Property tests (hypothesis): the parser's contract and the algebra of the matchers."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_audit.policy import (Layers, OrgLevel, PolicyParseError, Request, evaluate, parse_policy)
from ecr_audit.policy.catalogue import action_names
from ecr_audit.policy.patterns import (compile_tokens, glob_tokens, tokens_cover,
                                       tokens_intersect)

ACCOUNT = "123456789012"
SERVICES = ("ecr", "ecr-public", "s3", "iam", "kms", "sts")
ELEMENTS = ("Version", "Statement", "Sid", "Effect", "Action", "NotAction", "Resource",
            "NotResource", "Principal", "NotPrincipal", "Condition", "AWS", "Service", "Allow",
            "Deny", "StringEquals", "ForAllValues:StringLike", "Null", "aws:SourceVpc", "*")
#: per test, so that other modules' hypothesis settings are left alone
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.sampled_from(ELEMENTS), st.text(max_size=12))
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(ELEMENTS), st.text(max_size=8)), children,
                        max_size=5)),
    max_leaves=25)

ecr_actions = st.sampled_from(action_names("ecr"))


@st.composite
def near_policies(draw):
    """Documents shaped like policies, with any element possibly wrong."""
    def element(valid):
        return draw(st.one_of(valid, json_values))
    statement = {}
    for key, valid in [
        ("Effect", st.sampled_from(["Allow", "Deny"])),
        ("Action", st.one_of(ecr_actions, st.lists(ecr_actions, min_size=1, max_size=3))),
        ("Resource", st.sampled_from(["*", f"arn:aws:ecr:*:{ACCOUNT}:repository/${{aws:x}}/*"])),
        ("Principal", st.sampled_from(["*", {"AWS": ACCOUNT}, {"Service": "x.amazonaws.com"}])),
        ("Condition", st.just({"StringEquals": {"aws:SourceVpc": ["vpc-1"]}})),
    ]:
        if draw(st.booleans()):
            statement[key] = element(valid)
    return {"Version": element(st.just("2012-10-17")),
            "Statement": draw(st.sampled_from([statement, [statement], [statement, statement]]))}


@SETTINGS
@given(st.one_of(json_values, near_policies(), st.text(max_size=40)))
def test_parser_returns_a_policy_or_raises_policy_parse_error_and_nothing_else(document):
    try:
        policy = parse_policy(document, "fuzz")
    except PolicyParseError as error:
        assert error.policy_id == "fuzz"
        return
    # whatever parsed can be evaluated, in both modes, without error
    request = Request(f"arn:aws:iam::{ACCOUNT}:user/u", "ecr:BatchGetImage",
                      f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app")
    for mode in ("strict", "audit"):
        decision = evaluate(request, Layers(identity_policies=(policy,),
                                            resource_policies=(policy,)), mode)
        assert decision.outcome in ("allowed", "conditional", "implicit_deny", "explicit_deny")


def _statement(**element):
    return parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", **element}]}, "p").statements[0]


def _random_case(draw, text):
    return "".join(ch.upper() if draw(st.booleans()) else ch.lower() for ch in text)


@SETTINGS
@given(st.sampled_from(SERVICES), st.data())
def test_star_action_matches_every_action_of_a_service(service, data):
    action = data.draw(st.sampled_from(action_names(service)))
    spelled = _random_case(data.draw, action)
    assert _statement(Action="*", Resource="*").matches_action(spelled)
    assert _statement(Action=f"{service}:*", Resource="*").matches_action(spelled)


action_patterns = st.builds(
    lambda name, cut, wild: name[:cut] + wild if wild else name,
    st.sampled_from(action_names("ecr")), st.integers(0, 30), st.sampled_from(["", "*", "?*"]))


@SETTINGS
@given(st.lists(action_patterns, min_size=1, max_size=4), ecr_actions, st.data())
def test_not_action_is_the_complement_of_action(patterns, action, data):
    spelled = _random_case(data.draw, action)
    listed = _statement(Action=patterns, Resource="*").matches_action(spelled)
    unlisted = _statement(NotAction=patterns, Resource="*").matches_action(spelled)
    assert listed is not unlisted


segment = st.text(alphabet="ab-/", min_size=0, max_size=5)
resource_patterns = st.builds(
    lambda region, name, wild: f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}{wild}",
    st.sampled_from(["eu-west-1", "*", "eu-*", "?s-east-1"]), segment,
    st.sampled_from(["", "*", "?", "/*"]))
resources = st.builds(lambda region, name: f"arn:aws:ecr:{region}:{ACCOUNT}:repository/{name}",
                      st.sampled_from(["eu-west-1", "us-east-1"]), segment)


@SETTINGS
@given(st.lists(resource_patterns, min_size=1, max_size=3), resources)
def test_not_resource_is_the_complement_of_resource(patterns, resource):
    listed = _statement(Action="*", Resource=patterns).matches_resource(resource)
    unlisted = _statement(Action="*", NotResource=patterns).matches_resource(resource)
    assert isinstance(listed, bool) and listed is not unlisted


allow_statements = st.builds(
    lambda action, resource: {"Effect": "Allow", "Action": action, "Resource": resource},
    st.one_of(st.just("*"), ecr_actions, st.just("ecr:*")),
    st.sampled_from(["*", f"arn:aws:ecr:*:{ACCOUNT}:repository/*"]))


@SETTINGS
@given(ecr_actions, st.sampled_from(["identity", "boundary", "scp", "rcp", "resource",
                                     "session"]),
       st.lists(allow_statements, max_size=4), st.booleans(), st.sampled_from(["strict",
                                                                              "audit"]))
def test_an_explicit_deny_wins_whatever_allows_are_added(action, deny_layer, allows,
                                                         grant_resource, mode):
    deny = {"Effect": "Deny", "Action": action, "Resource": "*"}
    if deny_layer in ("resource", "rcp"):
        deny["Principal"] = "*"
    extra = parse_policy({"Version": "2012-10-17", "Statement": allows}, "extra") if allows \
        else None
    full = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "full")
    denying = parse_policy({"Version": "2012-10-17", "Statement": [deny]}, "deny")
    resource_grant = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}, "grant")

    def layer(name):
        policies = [full] + ([extra] if extra else []) + ([denying] if deny_layer == name else [])
        return tuple(policies)

    layers = Layers(
        identity_policies=layer("identity"),
        permissions_boundary=parse_policy({"Version": "2012-10-17", "Statement": [
            s for p in layer("boundary") for s in p.document["Statement"]]}, "boundary"),
        scp_levels=(OrgLevel("r-root", layer("scp")),),
        rcp_levels=(OrgLevel("r-root", (denying,) if deny_layer == "rcp" else ()),),
        resource_policies=((resource_grant,) if grant_resource else ()) +
        ((denying,) if deny_layer == "resource" else ()),
        session_policy=parse_policy({"Version": "2012-10-17", "Statement": [
            s for p in layer("session") for s in p.document["Statement"]]}, "session"),
    )
    request = Request(f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s", action,
                      f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/app")
    assert evaluate(request, layers, mode).outcome == "explicit_deny"


condition_keys = st.sampled_from(["aws:SourceVpc", "aws:PrincipalTag/team", "aws:TagKeys"])
conditions = st.one_of(
    st.builds(lambda operator, key, values: {operator: {key: values}},
              st.sampled_from(["StringEquals", "StringNotEquals", "StringLike",
                               "StringNotLikeIfExists", "ForAllValues:StringEquals",
                               "ForAnyValue:StringNotEquals"]),
              condition_keys, st.lists(st.sampled_from(["a", "b", "a*"]), min_size=1,
                                       max_size=2)),
    st.builds(lambda key, value: {"Null": {key: value}}, condition_keys,
              st.sampled_from(["true", "false"])))
contexts = st.dictionaries(condition_keys, st.one_of(
    st.sampled_from(["a", "b", "c"]), st.lists(st.sampled_from(["a", "b", "c"]), max_size=2)),
    max_size=3)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["Allow", "Deny"]), conditions), min_size=1,
                max_size=4), contexts)
def test_audit_mode_with_every_key_known_decides_as_strict_mode(statements, context):
    policy = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": effect, "Action": "ecr:*", "Resource": "*", "Condition": condition}
        for effect, condition in statements]}, "p")
    strict = evaluate(Request(f"arn:aws:iam::{ACCOUNT}:user/u", "ecr:ListImages",
                              context=context), Layers(identity_policies=(policy,)), "strict")
    audit = evaluate(Request(f"arn:aws:iam::{ACCOUNT}:user/u", "ecr:ListImages",
                             context=context, known_keys=("*",)),
                     Layers(identity_policies=(policy,)), "audit")
    assert strict.outcome == audit.outcome
    # only a clause the engine cannot interpret (a single-valued operator on the multivalued
    # aws:TagKeys) leaves a request with every key known undecided
    assert audit.outcome != "conditional" or policy.issues


glob_text = st.text(alphabet="ab:*?", max_size=6)
plain_text = st.text(alphabet="ab:", max_size=6)


@SETTINGS
@given(glob_text, glob_text, st.lists(plain_text, max_size=20))
def test_glob_overlap_and_cover_agree_with_matching_strings(first, second, samples):
    a, b = glob_tokens(first), glob_tokens(second)
    match_a, match_b = compile_tokens(a), compile_tokens(b)
    for sample in samples:
        if match_a.fullmatch(sample) and match_b.fullmatch(sample):
            assert tokens_intersect(a, b)
        if tokens_cover(a, b) and match_b.fullmatch(sample):
            assert match_a.fullmatch(sample)
    # a pattern with no wildcard is the one string it names
    if not re.search(r"[*?]", second):
        assert tokens_intersect(a, b) == bool(match_a.fullmatch(second))
        assert tokens_cover(a, b) == bool(match_a.fullmatch(second))
