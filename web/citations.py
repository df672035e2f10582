"""What a page cites: the programme it is about, in the footer (issue 15).

A page about one case cites its programme (case.html, the form, the print view); the pages
about one feature — the register of bases, supervision, quarterly data and re-evaluation —
cite the programmes whose definitions have that feature; any other page cites the
programmes in use where the signed-in user works (its authority may apply in them, or the
national ones), or none. Each citation is the definition's own `citation_zh` / `citation_en`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import Blueprint
from flask_babel import gettext as _

from web.auth import current_user
from web.i18n import is_en
from workflow.eligibility import CriterionDef
from workflow.programme import Programme, known, programme

bp = Blueprint("citations", __name__)


def _has_reference_criterion(p: Programme) -> bool:
    kinds: Iterable[CriterionDef] = p.criteria
    return any(c.kind == "growth_vs_reference" for c in kinds)


# a feature a page is about -> does a programme's definition have it?
FEATURES: dict[str, Callable[[Programme], bool]] = {
    "register": lambda p: any(s.register for s in p.states.values()),  # the register of bases
    # bases with duties — supervision: designated and reporting (Guangdong's enterprises
    # are designated but file no quarterly data, and are not supervised here)
    "designated": lambda p: bool(p.designated) and p.quarterly is not None,
    "assessment": lambda p: p.assessment is not None,  # re-evaluation ([assessment])
    "quarterly": lambda p: p.quarterly is not None,  # quarterly data (002 §四(四))
    "goals": lambda p: p.goals is not None,  # the programme's goals (002 §一)
    "reference": _has_reference_criterion,  # reference statistics (002 §六(二)(3))
}


def _ordered() -> list[Programme]:
    """Every programme, notice 002's first."""
    first = programme()
    return [first, *(p for p in known() if p.code != first.code)]


def programmes_about(feature: str) -> list[Programme]:
    """The programmes a page about `feature` is about (a key of FEATURES)."""
    has = FEATURES[feature]
    return [p for p in _ordered() if has(p)]


def programmes_in_use() -> list[Programme]:
    """The programmes where the signed-in user works: those its authority (a city: or its
    province) may apply in or keeps; without an authority, the national ones."""
    user = current_user()
    authority = user.authority if user is not None else None
    if authority is None:
        return [p for p in _ordered() if p.authority is None]
    parent = authority.parent.code if authority.parent is not None else None
    return [p for p in _ordered() if p.open_to(authority.code, parent)]


def programmes_seen() -> list[Programme]:
    """The programmes whose cases the signed-in user's lists hold: every one for a user
    without an authority (the ministry sees every case); else those it works in
    (`programmes_in_use`: Hubei's reviewer, notice 002's and none of Guangdong's)."""
    user = current_user()
    if user is not None and user.authority is None:
        return _ordered()
    return programmes_in_use()


def cite(programmes: Iterable[Programme]) -> str:
    """'依据<citation>' for each programme, in the page's language (each text once); ''
    for none."""
    seen: list[str] = []
    for p in programmes:
        text = p.citation_en if is_en() else p.citation_zh
        if text not in seen:
            seen.append(text)
    return ("; " if is_en() else "；").join(_("依据%(citation)s", citation=t) for t in seen)


bp.add_app_template_global(programmes_about, "programmes_about")
bp.add_app_template_global(programmes_in_use, "programmes_in_use")
bp.add_app_template_global(cite, "cite")
