"""The rewriter's def-use slices (instrument.flow) and ownership checks (guards.ownership_checked)."""

from __future__ import annotations

import ast
import textwrap

from racefree.detector.instrument import flow, guards


def stores(source: str) -> dict[int, flow.Flow]:
    """Flow of each store of the first function in `source`, by the store's line."""
    fn = ast.parse(textwrap.dedent(source)).body[0]
    assert isinstance(fn, ast.FunctionDef)
    function = flow.Function(fn)
    by_id = {id(n): n for n in ast.walk(fn)}
    return {by_id[k].lineno: v for k, v in function.stores.items()}  # type: ignore[attr-defined]


def test_a_blind_store_of_the_thread_id_is_not_computed_from_the_read() -> None:
    found = stores(
        """
        def transact(self):
            tid = threading.get_ident()
            txn_id = self._txn_id
            if tid == txn_id:
                return
            self._txn_id = tid
            self._txn_id = None
        """
    )
    assert found[7] == (2, 8, (3, 7), True)  # line 4 (the read) is not among them
    assert found[8] == (2, 8, (8,), False)


def test_locals_fields_and_later_assignments_are_followed() -> None:
    found = stores(
        """
        def f(self, n):
            v = 0
            for i in range(n):
                self.x = v
                self.tmp = self.y
                v = self.tmp + 1
        """
    )
    first, last, lines, opened = found[5]
    assert (first, last, opened) == (2, 7, True)
    assert {3, 5, 6, 7} <= set(lines)  # the loop's next iteration, through `self.tmp`
    assert 4 not in lines


def test_a_constant_is_closed_and_a_parameter_is_open() -> None:
    found = stores(
        """
        def f(self, value):
            self.a = 1
            self.b = value
            c = [1, 2]
            self.c = c
        """
    )
    assert found[3][3] is False and found[4][3] is True and found[6][3] is False


def owned(test: str, identity: tuple[str, ...] = ()) -> frozenset[guards.Loc]:
    node = ast.parse(test, mode="eval").body
    return guards.ownership_checked(node, identity)


def test_ownership_checks_compare_with_the_thread_identity() -> None:
    assert owned("self._owner == get_ident()") == {("attr", "self._owner")}
    assert owned("threading.current_thread() is not self.owner") == {("attr", "self.owner")}
    assert owned("self.owner == threading.current_thread().ident") == {("attr", "self.owner")}
    assert owned("tid == txn", ("tid",)) == {("name", "txn")}
    # compared with anything else too, or not with the identity: a real check
    assert owned("self.owner is None or self.owner == get_ident()") == frozenset()
    assert owned("self.owner == tid") == frozenset()


def test_identity_names_are_locals_assigned_only_the_identity() -> None:
    fn = ast.parse(textwrap.dedent(
        """
        def f(self, arg):
            me = threading.get_ident()
            also = me
            other = me
            other = arg
        """
    )).body[0]
    assert isinstance(fn, ast.FunctionDef)
    assert flow.Function(fn).identity == {"me", "also"}


def test_views_copied_whole_by_list_or_sorted_are_marked() -> None:
    from racefree.detector.events import F_COPIED
    from racefree.detector.instrument.transform import rewrite_module

    tree = rewrite_module(ast.parse(textwrap.dedent(
        """
        def f(d):
            a = list(d.items())
            b = sorted(d.keys())
            c = tuple(d.values())
            e = list(d.items(), )
            for k in d.items():
                pass
        """
    )), "/snippets/views.py")
    flagged = {
        c.value[1] for c in ast.walk(tree)
        if isinstance(c, ast.Constant) and isinstance(c.value, tuple) and len(c.value) >= 5
        and c.value[3] & F_COPIED
    }
    assert flagged == {3, 4, 6}
