"""The collector is kept off long-lived objects only for the block, and never against the caller's own settings."""

import gc

from ecr_audit.heap import long_lived_frozen


def test_objects_made_before_the_block_are_frozen_inside_it_and_handed_back_after():
    assert gc.get_freeze_count() == 0
    with long_lived_frozen():
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0 and gc.isenabled()


def test_a_callers_own_freeze_is_left_to_the_caller():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with long_lived_frozen():
            pass
        assert gc.get_freeze_count() >= frozen - 10  # still frozen (a few objects may be freed meanwhile)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_nothing_is_frozen_when_the_collector_is_disabled():
    gc.disable()
    try:
        with long_lived_frozen():
            assert gc.get_freeze_count() == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_inner_block_leaves_the_outer_blocks_objects_frozen_and_does_not_count_them(monkeypatch):
    counted = []
    with long_lived_frozen():
        frozen = gc.get_freeze_count()
        monkeypatch.setattr(gc, "get_freeze_count", lambda: counted.append(1) or frozen)
        with long_lived_frozen():
            pass
        monkeypatch.undo()
        assert gc.get_freeze_count() > 0
    assert counted == [] and gc.get_freeze_count() == 0
