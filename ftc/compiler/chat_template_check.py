"""Compile a recipe's own Jinja chat template at lint time, as transformers will at run time.

A template with a syntax error (or an unknown filter) otherwise surfaces only
when data is prepared or training starts.  The environment mirrors
transformers' (sandboxed, trim_blocks, lstrip_blocks, loop controls and the
`{% generation %}` tag that marks assistant text); Jinja is imported only when
a recipe has a template of its own.
"""

from __future__ import annotations

# model.chat_template values that name a template instead of holding one.
NAMED_TEMPLATES = ("model", "chatml", "llama3")


def template_error(source: str) -> tuple[int, str] | None:
    """(template line, message) when `source` does not compile, else None."""
    import jinja2
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

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[Generation, loopcontrols])
    try:
        env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        return exc.lineno or 1, exc.message or "syntax error"
    except RecursionError:
        return 1, "nested too deeply to compile"
    return None
