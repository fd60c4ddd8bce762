"""Helpers the resume tests of every family share: stop a run after N steps, and compare two
saved states for bit identity."""
import itertools

import torch


def stop_after(steps):
    """A should_stop that says yes from the poll before step ``steps + 1`` on."""
    polls = itertools.count()
    return lambda: next(polls) >= steps


def flatten(state, prefix=""):
    if isinstance(state, dict):
        for key, value in state.items():
            yield from flatten(value, f"{prefix}/{key}")
    elif isinstance(state, (list, tuple)):
        for i, value in enumerate(state):
            yield from flatten(value, f"{prefix}/{i}")
    else:
        yield prefix, state


def assert_identical(a, b):
    """Same keys, tensors equal bit for bit (torch.equal), other values equal."""
    flat_a, flat_b = dict(flatten(a)), dict(flatten(b))
    assert flat_a.keys() == flat_b.keys()
    for key, value in flat_a.items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, flat_b[key]), key
        else:
            assert value == flat_b[key], key
