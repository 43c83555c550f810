"""Compile a recipe's own Jinja chat template at lint time, as transformers will at run time.

A template with a syntax error (or an unknown filter) otherwise surfaces only
when data is prepared or training starts.  The environment mirrors
transformers' (sandboxed, trim_blocks, lstrip_blocks, loop controls and the
`{% generation %}` tag that marks assistant text); Jinja is imported only when
a recipe has a template of its own.
"""

from __future__ import annotations

import re

from ftc.tables import CHAT_TEMPLATES, OWN_TEMPLATE

# model.chat_template values that name a template instead of holding one.
NAMED_TEMPLATES = (*OWN_TEMPLATE, *CHAT_TEMPLATES)
GENERATION_MARKER = re.compile(r"\{%-?\s*generation\s*-?%\}")
_SYSTEM_PROBE = "ftc-system-probe-7f3a"


def is_template_file(value: str) -> bool:
    """A one-line value ending in .jinja names a template file (relative to the recipe)."""
    return "\n" not in value.strip() and value.strip().endswith(".jinja")


def has_generation_marker(source: str) -> bool:
    return bool(GENERATION_MARKER.search(source))


def lacks_system_role(source: str) -> bool:
    """True when the template refuses a system message or drops its text."""
    env = _environment()
    try:
        text = env.from_string(source).render(
            messages=[{"role": "system", "content": _SYSTEM_PROBE},
                      {"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}],
            bos_token="", eos_token="", add_generation_prompt=False,
            raise_exception=_raise)
    except Exception:  # noqa: BLE001 - raise_exception, or any error on a system turn
        return True
    return _SYSTEM_PROBE not in text


def _raise(message: str) -> None:
    raise ValueError(message)


def template_error(source: str) -> tuple[int, str] | None:
    """(template line, message) when `source` does not compile, else None."""
    import jinja2

    try:
        _environment().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        return exc.lineno or 1, exc.message or "syntax error"
    except RecursionError:
        return 1, "nested too deeply to compile"
    return None


def _environment():
    """A sandbox like transformers' (trim/lstrip blocks, loop controls, generation tag)."""
    from jinja2 import nodes
    from jinja2.ext import Extension, loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Generation(Extension):
        """`{% generation %}...{% endgeneration %}`: parsed like transformers' AssistantTracker."""

        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller):
            return caller()

    return ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                         extensions=[Generation, loopcontrols])
