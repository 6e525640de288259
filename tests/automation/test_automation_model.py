"""Property tests: TaskRegistry and ConfigStore against a trivially correct model (a plain dict)."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from racefree.automation import ConfigStats, ConfigStore, TaskRegistry

ids = st.sampled_from(["a", "b", "c", "d"])
types = st.sampled_from(["x", "y", "z"])
registry_ops = st.lists(st.one_of(
    st.tuples(st.just("register"), ids, types),
    st.tuples(st.just("register_if_absent"), ids, types),
    st.tuples(st.just("unregister"), ids, types),
), max_size=40)


@given(registry_ops)
def test_registry_matches_a_dict_model(ops: list[tuple[str, str, str]]) -> None:
    reg, model = TaskRegistry(), {}
    for op, task_id, task_type in ops:
        name = f"{op}-{task_id}-{task_type}"
        if op == "register":
            reg.register(task_id, name, task_type)
            model[task_id] = (name, task_type)
        elif op == "register_if_absent":
            assert reg.register_if_absent(task_id, name, task_type) is (task_id not in model)
            model.setdefault(task_id, (name, task_type))
        else:
            assert reg.unregister(task_id) is (model.pop(task_id, None) is not None)
    assert reg.all() == {k: v[0] for k, v in model.items()}
    assert reg.counts_by_type() == dict(Counter(t for _, t in model.values()))
    assert len(reg) == len(model)


config_ops = st.lists(st.one_of(
    st.tuples(st.just("set"), ids, st.text(max_size=3)),
    st.tuples(st.just("delete"), ids, st.just("")),
    st.tuples(st.just("get"), ids, st.just("")),
), max_size=40)


@given(config_ops)
def test_config_store_matches_a_dict_model(ops: list[tuple[str, str, str]]) -> None:
    store, model = ConfigStore(), {}
    reads = writes = 0
    for op, key, value in ops:
        if op == "set":
            store.set(key, value)
            model[key] = value
            writes += 1
        elif op == "delete":
            assert store.delete(key) is (model.pop(key, None) is not None)
            writes += 1
        else:
            assert store.get(key) == model.get(key)
            reads += 1
    assert store.stats() == ConfigStats(reads=reads, writes=writes)
    assert store.get_all() == model
