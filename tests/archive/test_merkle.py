"""The Merkle tree of archived packages (RFC 9162): hand-computed heads, every proof verifies, and any
change of leaf, index, size, proof or head is caught."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.merkle import inclusion_proof, leaf_hash, root, verify_inclusion


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_heads_by_hand():
    assert root([]) == h(b"")
    a, b, c = b"a", b"b", b"c"
    la, lb, lc = h(b"\x00a"), h(b"\x00b"), h(b"\x00c")
    assert leaf_hash(a) == la
    assert root([a]) == la
    assert root([a, b]) == h(b"\x01" + la + lb)
    # Three leaves: the left subtree holds the largest power of two (2), the right the rest.
    assert root([a, b, c]) == h(b"\x01" + h(b"\x01" + la + lb) + lc)


def test_proofs_by_hand():
    la, lb, lc = h(b"\x00a"), h(b"\x00b"), h(b"\x00c")
    assert inclusion_proof([b"a", b"b", b"c"], 2) == [h(b"\x01" + la + lb)]
    assert inclusion_proof([b"a", b"b", b"c"], 0) == [lb, lc]
    assert inclusion_proof([b"a"], 0) == []
    with pytest.raises(IndexError):
        inclusion_proof([b"a"], 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=8), min_size=1, max_size=40), st.data())
def test_every_proof_verifies_and_any_change_fails(leaves, data):
    head = root(leaves)
    index = data.draw(st.integers(0, len(leaves) - 1))
    proof = inclusion_proof(leaves, index)
    size = len(leaves)
    assert verify_inclusion(leaves[index], index, size, proof, head)
    assert not verify_inclusion(leaves[index] + b"!", index, size, proof, head)
    assert not verify_inclusion(leaves[index], index, size, proof, h(head))
    # (The tree size is bound by the signed tree head, which carries it: a proof alone does not always
    # tell a tree of 3 from one of 4 for its leftmost leaf, as in RFC 9162.)
    assert not verify_inclusion(leaves[index], size, size, proof, head)
    if proof:
        bent = [h(proof[0]), *proof[1:]]
        assert not verify_inclusion(leaves[index], index, size, bent, head)
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], head)
    if size > 1 and leaves[index] != leaves[(index + 1) % size]:
        assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, head)
