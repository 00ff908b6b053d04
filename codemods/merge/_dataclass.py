"""Dataclass-mapped canonicals (`MappedAsDataclass`): fields a duplicate adds keep `__init__` valid.

A field without a default after defaulted ones breaks the generated `__init__`, and a new
required positional field changes the canonical's signature. Each added column or relationship
gets a default where its type allows one (`None` for an optional value, `list` for a
collection), else `kw_only=True`.
"""

from __future__ import annotations

import libcst as cst

from codemods.cst._classbody import Member, assignment, code, kwarg, mapped_inner, optional_inner
from codemods.merge._bases import TreeClass

_DATACLASS_MARKERS = frozenset({"MappedAsDataclass"})
_SETS_INIT = ("default", "default_factory", "insert_default", "init", "kw_only")


def dataclass_mapped(cls: cst.ClassDef, resolver_names: list[str], ancestry: list[TreeClass]) -> bool:
    """Whether the class (its bases named in resolver_names, or a tree ancestor) is dataclass-mapped."""
    if any(name.rsplit(".", 1)[-1] in _DATACLASS_MARKERS for name in resolver_names):
        return True
    for deco in cls.decorators:
        if code(deco.decorator).rsplit(".", 1)[-1].startswith("mapped_as_dataclass"):
            return True
    for ancestor in ancestry:
        for arg in ancestor.cls.bases:
            name = ancestor.resolver.qualname(arg.value) or code(arg.value)
            if name.rsplit(".", 1)[-1] in _DATACLASS_MARKERS:
                return True
    return False


def _with_kwarg(call: cst.Call, keyword: str, value: str) -> cst.Call:
    args = list(call.args)
    if args:
        args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(keyword=cst.Name(keyword), value=cst.parse_expression(value),
                        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                              whitespace_after=cst.SimpleWhitespace(""))))
    return call.with_changes(args=args)


def _replace_call(stmt: cst.BaseStatement, old: cst.Call, new: cst.Call) -> cst.BaseStatement:
    class Swap(cst.CSTTransformer):
        def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
            return new if original_node is old else updated_node

    out = stmt.visit(Swap())
    assert isinstance(out, cst.BaseStatement)
    return out


def dataclass_field(member: Member) -> tuple[Member, str | None]:
    """The added member with a default or kw_only=True where it needs one; and a note when changed."""
    if member.kind not in ("column", "relationship"):
        return member, None
    call, annotation = assignment(member)
    if call is None or any(kwarg(call, k) is not None for k in _SETS_INIT):
        return member, None
    inner = mapped_inner(annotation)
    optional = inner is not None and optional_inner(inner)[1]
    head = code(inner).split("[", 1)[0].rsplit(".", 1)[-1] if inner is not None else ""
    if member.kind == "relationship" and head in ("list", "List", "set", "Set"):
        keyword, value = "default_factory", head.lower()
    elif optional:
        keyword, value = "default", "None"
    else:
        keyword, value = "kw_only", "True"
    stmt = _replace_call(member.stmts[0], call, _with_kwarg(call, keyword, value))
    new = Member(member.name, member.kind, (stmt, *member.stmts[1:]), member.call, member.annotated)
    return new, f"{member.name}: {keyword}={value} added so the dataclass __init__ stays valid"
