import gc

from jira_chase.engine.gc_pause import gc_paused


def test_the_collector_is_back_on_only_if_it_was_on():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_the_pause_built_is_not_walked_by_the_next_young_collection():
    """Built under the pause, 200,000 objects would otherwise all be young: the first
    allocation afterwards would make the collector walk every one of them (and the
    next middle-aged collection again). They go straight to the oldest generation."""
    with gc_paused():
        kept = [[n] for n in range(200_000)]
    young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
    assert young < 100_000
    assert len(kept) == 200_000
