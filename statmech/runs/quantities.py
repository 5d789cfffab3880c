"""What an experiment's numbers are: a label in words, a symbol, a unit, and for summaries a theory.

An experiment declares, once per name, what each of its outputs is:

- ``variables={name: Quantity(...)}`` for its arrays and coordinates;
- ``summaries={name: Summary(...)}`` for its scalar summaries, with, where
  one exists, the theory the summary is compared with (a number, the name
  of another scalar of the same run, or a function of the run's
  parameters) and the scalar holding its standard error.

Names may be templates, ``"alpha_1_sim_{ensemble}"``, matching a family of
names (``alpha_1_sim_spherical``...); the label, the theory and the error
may use the same fields. A name nobody declared is *derived* where its
form says what it is (``sem_x``, ``x_se``, ``x_err``, ``x_stderr``: the
standard error of ``x``; ``theory_x``, ``x_theory``: the theory of ``x``),
and otherwise falls back to its name in words with no unit
(:func:`describe`).

The archive writes each quantity as the CF-convention attributes
``long_name`` and ``units`` of its variable (``"1"`` for a pure number,
:func:`cf_units`), so xarray's ``.plot()`` and netCDF tools label them;
``statmech plot --experiment`` labels its axes with them and draws the
theories.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from typing import Any, Callable, Mapping

__all__ = [
    "DIMENSIONLESS",
    "Quantity",
    "Summary",
    "cf_units",
    "unit_from_cf",
    "describe",
    "check_declarations",
]

#: Unit of a pure number (the figures' wording; the archive writes CF's ``"1"``).
DIMENSIONLESS = "dimensionless"

_ERROR_FORMS = (("sem_", ""), ("", "_sem"), ("", "_se"), ("", "_err"), ("", "_stderr"))
_THEORY_FORMS = (("theory_", ""), ("", "_theory"))


@dataclass(frozen=True)
class Quantity:
    """What one array, coordinate or scalar is.

    Parameters
    ----------
    label : str
        What it is, in words (``"inverse temperature"``); the archive's ``long_name``.
    symbol : str
        Its symbol in matplotlib mathtext (``r"$\\beta$"``), "" if none.
    unit : str
        Its unit (``"1/energy"``, ``"OU time"``), :data:`DIMENSIONLESS` for a
        pure number, or ``""`` when unknown (undeclared names only).
    """

    label: str
    symbol: str = ""
    unit: str = DIMENSIONLESS

    def __post_init__(self):
        for key in ("label", "symbol", "unit"):
            if not isinstance(getattr(self, key), str):
                raise TypeError(f"{type(self).__name__}.{key} must be a string, got {getattr(self, key)!r}")
        if not self.label.strip():
            raise ValueError(f"{type(self).__name__} needs a label in words, got {self.label!r}")

    @property
    def axis_label(self) -> str:
        """``"label symbol (unit)"``: an axis label in the figures' style."""
        head = " ".join(part for part in (self.label, self.symbol) if part)
        return f"{head} ({self.unit or 'unit unknown'})"

    def fill(self, fields: Mapping[str, str]) -> "Quantity":
        """This quantity with the template ``fields`` filled into its label and symbol."""
        if not fields:
            return self
        return _replace(self, label=self.label.format(**fields), symbol=self.symbol.format(**fields))


@dataclass(frozen=True)
class Summary(Quantity):
    """A scalar summary: a :class:`Quantity` with, where one exists, its theory and its error.

    Parameters
    ----------
    theory : float, str or callable, optional
        The value theory predicts: a number; the name of another scalar of
        the same run holding it (``"beta_c_theory"``; a template may use the
        summary's fields); or ``theory(**params) -> float`` of the run's
        resolved parameters.
    theory_label : str
        What the theory is, for legends (``"M -> infinity"``, ``"AGS"``).
    error : str
        Name of the scalar holding this summary's standard error within one
        run ("" if none); used for error bars when a point has one run.
    """

    theory: float | str | Callable[..., float] | None = None
    theory_label: str = "theory"
    error: str = ""

    def __post_init__(self):
        super().__post_init__()
        theory = self.theory
        if not (theory is None or isinstance(theory, (int, float, str)) or callable(theory)):
            raise TypeError(f"Summary.theory must be a number, a scalar name or a function, got {theory!r}")
        if isinstance(theory, bool):
            raise TypeError("Summary.theory must be a number, a scalar name or a function, got a bool")
        if not isinstance(self.error, str):
            raise TypeError(f"Summary.error must be a scalar name, got {self.error!r}")

    def fill(self, fields: Mapping[str, str]) -> "Summary":
        if not fields:
            return self
        theory = self.theory.format(**fields) if isinstance(self.theory, str) else self.theory
        return _replace(self, label=self.label.format(**fields), symbol=self.symbol.format(**fields),
                        theory=theory, error=self.error.format(**fields))

    def theory_value(self, scalars: Mapping[str, Any], params: Mapping[str, Any]) -> float:
        """The theory for one run (NaN if none, or if the run lacks the scalar holding it)."""
        theory = self.theory
        if theory is None:
            return math.nan
        if isinstance(theory, str):
            value = scalars.get(theory)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
        if callable(theory):
            return float(theory(**params))
        return float(theory)

    def error_value(self, scalars: Mapping[str, Any]) -> float:
        """The run's own standard error of this summary (NaN if none)."""
        value = scalars.get(self.error) if self.error else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _replace(q, **changes):
    import dataclasses

    return dataclasses.replace(q, **changes)


def cf_units(unit: str) -> str:
    """The CF ``units`` attribute of a unit: ``"1"`` for a pure number, the unit otherwise."""
    return "1" if unit == DIMENSIONLESS else unit


def unit_from_cf(units: str) -> str:
    """The unit of a CF ``units`` attribute (the inverse of :func:`cf_units`; ``""``: unknown)."""
    return DIMENSIONLESS if units == "1" else units


# -- finding a name's quantity ---------------------------------------------------------------------------

_TEMPLATES: dict[str, tuple[re.Pattern, tuple[str, ...]]] = {}


def _template(key: str):
    """``(regex, field names)`` of a template key, or None for a plain name."""
    if "{" not in key:
        return None
    cached = _TEMPLATES.get(key)
    if cached is None:
        pattern, fields = "", []
        for literal, field, _, _ in string.Formatter().parse(key):
            pattern += re.escape(literal)
            if field is not None:
                if not field.isidentifier():
                    raise ValueError(f"template {key!r}: field {field!r} must be an identifier")
                pattern += f"(?P<{field}>.+?)"
                fields.append(field)
        cached = _TEMPLATES[key] = (re.compile(pattern + r"\Z"), tuple(fields))
    return cached


def _declared(name: str, declared: Mapping[str, Quantity]) -> Quantity | None:
    """A declared name, else the matching template with the most literal text
    (``alpha_1_sim_err_{e}`` wins over ``alpha_1_sim_{e}`` for ``alpha_1_sim_err_binary``)."""
    if name in declared:
        return declared[name]
    best, best_literal = None, -1
    for key, quantity in declared.items():
        template = _template(key)
        if template is not None:
            match = template[0].match(name)
            literal = len(key) - sum(len(field) + 2 for field in template[1])
            if match and literal > best_literal:
                best, best_literal = quantity.fill(match.groupdict()), literal
    return best


def _derived(name: str, declared: Mapping[str, Quantity]) -> Quantity | None:
    for (prefix, suffix), words in ((form, "standard error of") for form in _ERROR_FORMS):
        base = _strip(name, prefix, suffix)
        if base and (q := _declared(base, declared)) is not None:
            symbol = rf"$\sigma$({q.symbol})" if q.symbol else ""
            return Quantity(f"{words} {q.label}", symbol, q.unit)
    for prefix, suffix in _THEORY_FORMS:
        base = _strip(name, prefix, suffix)
        if base and (q := _declared(base, declared)) is not None:
            return Quantity(f"{q.label}, theory", q.symbol, q.unit)
    return None


def _strip(name: str, prefix: str, suffix: str) -> str:
    if name.startswith(prefix) and name.endswith(suffix) and len(name) > len(prefix) + len(suffix):
        return name[len(prefix):len(name) - len(suffix)]
    return ""


def describe(name: str, declared: Mapping[str, Quantity], *, fallback: bool = True) -> Quantity | None:
    """The quantity of output ``name``: declared (plain or template), derived, or a fallback.

    The fallback (``fallback=True``) is the name in words with an unknown
    unit (``""``); with ``fallback=False`` an undeclared, underivable name
    gives ``None``.
    """
    found = _declared(name, declared) or _derived(name, declared)
    if found is None and fallback:
        return Quantity(name.replace("_", " "), "", "")
    return found


def check_declarations(owner: str, variables: Mapping[str, Any] | None,
                       summaries: Mapping[str, Any] | None) -> tuple[dict, dict]:
    """Validate an experiment's declarations; returns them as plain dicts.

    ``variables`` values must be :class:`Quantity`; ``summaries`` values
    :class:`Summary` (a plain :class:`Quantity` is taken as a summary without
    theory). Keys must be names or templates whose fields are identifiers.
    """
    out = []
    for kind, mapping in (("variables", variables), ("summaries", summaries)):
        mapping = dict(mapping or {})
        for key, value in list(mapping.items()):
            if not isinstance(key, str) or not key.replace("{", "").replace("}", "").isidentifier():
                raise ValueError(f"{owner}: {kind} keys must be names or templates like 'x_{{field}}', got {key!r}")
            _template(key)
            if not isinstance(value, Quantity):
                raise TypeError(f"{owner}: {kind}[{key!r}] must be a Quantity or Summary, got {value!r}")
            if kind == "summaries" and not isinstance(value, Summary):
                mapping[key] = Summary(value.label, value.symbol, value.unit)
        out.append(mapping)
    clash = set(out[0]) & set(out[1])
    if clash:
        raise ValueError(f"{owner}: names declared both as variables and summaries: {sorted(clash)}")
    return out[0], out[1]
