"""The two shortcuts of the rewrite give exactly what the whole-file libcst pass gives.

- Files that bind no old module are rewritten statement by statement (`_statements`); the
  reference is the whole-file pass on the same file.
- Files whose module bindings are each bound once are resolved without scope metadata
  ("bound_once"); the reference is the same pass with libcst's ScopeProvider ("scoped").

Each generated file is built from blocks whose outcome is known beforehand: which ones the
statement path must refuse (it then returns None), and which ones break "bound once".
"""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codemods.rewrite._planner import rewrite_source
from codemods.rewrite._refs import FileContext
from codemods.rewrite._statements import rewrite_reduced, rewrite_statements
from codemods.rewrite._targets import FileMode, Relocation, RewriteMode, Target, ast_refs, bound_once, mode_of
from codemods.types import SourceFile

OLD, NEW = "app.users.models", "app.auth.models"
PLAN = Relocation(
    canonical_module=NEW,
    canonical_path="app/auth/models.py",
    targets={
        f"{OLD}.User": Target(NEW, "User"),
        f"{OLD}.UserStatus": Target(NEW, "UserStatus"),
        f"{OLD}.Customer": Target(NEW, "User"),  # a duplicate with another class name
        "app.users.User": Target(NEW, "User"),  # re-exported by the package
    },
    locations=frozenset({OLD, "app.users"}),
    old_modules=frozenset({OLD}),
)
FILE = SourceFile("app/billing/views.py", "app.billing.views", False)
CANONICAL = SourceFile("app/auth/models.py", NEW, False)  # the merged module: its own imports go
FILES = st.sampled_from([FILE, CANONICAL])


def context(f: SourceFile, mode: RewriteMode) -> FileContext:
    return FileContext(f.path, f.module, False, f is CANONICAL, mode)

# (source, the statement path must refuse the file)
PLAIN_BLOCKS = [
    ("from app.users.models import User", False),
    ("from app.users.models import User as U1, UserRole  # why", False),
    ("from app.users.models import (\n    User,  # the user\n    UserRole,\n)", False),
    ("from app.users.models import (UserStatus as S,\n        Customer)", False),
    ("from ..users.models import UserStatus", False),
    ("from app.users import User", False),
    ("from app.users.models import \\\n    Customer", False),
    ("from app.users.models import *", False),
    ("if TYPE_CHECKING:\n    from app.users.models import User\nelse:\n    User = None", False),
    ("if True:\n\tfrom app.users.models import Customer", False),
    ("def f():\n    from app.users.models import Customer\n    return Customer", False),
    ("class A:\n    owner = relationship('app.users.models.User', back_populates='a')", False),
    ('x = relationship("Customer", primaryjoin="and_(app.users.models.Customer.id == 1)")', False),
    ('y = foo(k="app.users.models.User", j=relationship("Customer", x="app.users.models.UserStatus"))', False),
    ('p = patch("app.users.models.User.deactivate")', False),
    ('q = relationship(r"app.users.models.User")', False),
    ('v = "é" + "app.users.models.User"', False),
    ('w = relationship(lambda: "app.users.models.User")', False),
    ('def g(x: "app.users.models.User") -> "Customer":\n    return relationship("Customer")', False),
    ('u = f"{1}app.users.models.User"', False),
    ('"""app.users.models.User, in a bare string."""', False),
    ('z = b"app.users.models.User"', False),
    ('n = "app.users.models.Userish"', False),
    ("if TYPE_CHECKING: from app.users.models import User", True),
    ("import os; from app.users.models import User", True),
    ('s = "app.users.models." "User"', True),
    ('t = "app.users.models.User\\n"', True),
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(PLAIN_BLOCKS))), min_size=1, max_size=8),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    FILES,
)
def test_statement_path_matches_the_whole_file_pass(
    picks: list[int], newline: str, bom: bool, f: SourceFile
) -> None:
    blocks = [PLAIN_BLOCKS[i] for i in picks]
    text = ("\ufeff" if bom else "") + "\n".join(["import os", *(b for b, _ in blocks), ""])
    text = text.replace("\n", newline)
    tree = ast.parse(text.lstrip("\ufeff"))
    mode = mode_of(PLAN, f, tree, ast_refs(tree))
    assert mode in (None, FileMode("statements"))
    ctx = context(f, "statements")
    slow = rewrite_source(text, ctx, PLAN)
    scoped = rewrite_source(text, context(f, "scoped"), PLAN)  # names resolved with ScopeProvider
    if mode is None:  # the ast filter skips the file: the whole-file pass must leave it alone too
        assert slow == scoped == (text, [])
        return
    fast = rewrite_statements(text, ctx, PLAN, ast_refs(tree))
    if any(refused for _, refused in blocks):
        assert fast is None
    elif fast is None:  # a statement that goes away entirely is left to the whole-file pass
        assert f is CANONICAL and len(slow[0].splitlines()) < len(text.splitlines())
    else:
        assert fast == slow == scoped  # binding no location, name resolution has nothing to add


def test_statement_path_rewrites_what_it_should() -> None:
    """An independent spot check of the output itself (the property above only compares paths)."""
    text = (
        '"""Doc."""\r\nfrom app.users.models import (\r\n    Customer,  # c\r\n    UserRole,\r\n)\r\n'
        "def f():\r\n    from ..users.models import User\r\n"
        '    return relationship("Customer", x="é"), "app.users.models.UserStatus.x"\r\n'
    )
    ctx = FileContext(FILE.path, FILE.module, False, False, "statements")
    out = rewrite_statements(text, ctx, PLAN, ast_refs(ast.parse(text)))
    assert out == (
        '"""Doc."""\r\nfrom app.users.models import (\r\n    UserRole,\r\n)\r\n'
        "from app.auth.models import User as Customer\r\n"
        "def f():\r\n    from ..auth.models import User\r\n"
        # a bare class name resolves in its class's registry: rewrite/_registry_names renames it
        '    return relationship("Customer", x="é"), "app.auth.models.UserStatus.x"\r\n',
        [],
    )


# (source with {k} for a unique name, breaks "bound once")
BINDING_BLOCKS = [
    ("import app.users.models as um{k}\nA{k} = (um{k}.User, um{k}.UserRole)", False),
    ("import app.users.models as um{k}\nB{k} = um{k}.Customer", False),
    ("from app.users import models as pm{k}\ndef c{k}(x: 'pm{k}.User') -> pm{k}.UserStatus:\n    return x", False),
    ("from app import users as pk{k}\nD{k} = pk{k}.models.User", False),
    ("def h{k}():\n    import app.users.models as lm{k}\n    return lm{k}.UserStatus", False),
    ("import app.users.models\nE{k} = app.users.models.User", False),
    ("from app.users.models import User as U{k}\nF{k} = U{k}", False),
    ("import app.users.models as sm{k}\ndef s{k}(sm{k}):\n    return sm{k}.User", True),
    ("import app.users.models as rm{k}\nrm{k} = None", True),
    ("import app.users.models as tm{k}\nimport app.users as tm{k}", True),
    ("from app.users import *", True),
    ('import importlib\nlz{k} = importlib.import_module("app.users.models")\nG{k} = lz{k}.User', True),
    # statements the reduced module leaves out, or must keep for the names it may pick
    ("def unrelated{k}():\n    return 1\n# a comment after it", False),
    ("@decorator\n# between\ndef decorated{k}(x: 'base.User'):\n    pass", False),
    ("X{k} = 1; Y{k} = base.UserStatus", False),
    ("User = {k}", False),
    ("def CanonicalUser():\n    return {k}", False),
    ('R{k} = relationship("Customer", secondary="app.users.models.User")', False),
]


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(range(len(BINDING_BLOCKS))), max_size=7),
    FILES,
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_bound_once_resolution_matches_scope_metadata(picks: list[int], f: SourceFile, newline: str, end: bool) -> None:
    """And the reduced module (only the statements that matter) gives the same text again."""
    blocks = [BINDING_BLOCKS[i] for i in picks]
    dotted = sum("import app.users.models\n" in b for b, _ in blocks)
    text = "\n".join(["import app.users.models as base", *(b.format(k=k) for k, (b, _) in enumerate(blocks))])
    text = (text + ("\n" if end else "")).replace("\n", newline)
    tree = ast.parse(text)
    names = bound_once(PLAN, f, tree)
    assert (names is not None) == (not any(breaks for _, breaks in blocks) and dotted <= 1)
    if names is not None:
        scoped = rewrite_source(text, context(f, "scoped"), PLAN)
        assert rewrite_source(text, context(f, "bound_once"), PLAN) == scoped
        assert rewrite_reduced(text, context(f, "bound_once"), PLAN, tree, names) == scoped


def test_reduced_module_sees_every_name_an_added_import_could_shadow() -> None:
    """`User` and `CanonicalUser` are taken far from the uses: the new import must avoid both."""
    text = (
        "import app.users.models as um\n\n"
        "def CanonicalUser():\n    return 1\n\n"
        "def unrelated():\n    return 2\n\n"
        "PAIR = (um.User, um.UserRole)\n\n"
        "User = 3\n"
    )
    tree = ast.parse(text)
    names = bound_once(PLAN, FILE, tree)
    assert names == {"um"}
    reduced = rewrite_reduced(text, context(FILE, "bound_once"), PLAN, tree, names)
    assert reduced == rewrite_source(text, context(FILE, "scoped"), PLAN)
    assert reduced is not None and "from app.auth.models import User as CanonicalUser2\n" in reduced[0]
    assert "PAIR = (CanonicalUser2, um.UserRole)" in reduced[0]
