"""Which chat template renders `messages` data, per `model.chat_template`.

'tokenizer' (or its old name 'model') keeps the tokenizer's own; the names in
ftc.tables.CHAT_TEMPLATES are Jinja files shipped with ftc (each marks the
assistant's text with {% generation %}); anything else is a Jinja template (the
compiler put a .jinja file's text in the lock). Training on the assistant's turns only needs a
template with `{% generation %}` markers; TRL patches the templates it knows
(Qwen, Llama 3, ...), so a template that has neither is refused before the
model loads, with the fix in the hint.
"""

from __future__ import annotations

from ftc.runtime.run_lock import RunLock
from ftc.tables import OWN_TEMPLATE, chat_template


def builtin(name: str) -> str | None:
    """The shipped template of that name, else None."""
    return chat_template(name)


def template_for(setting: str | None) -> str | None:
    """The template text a setting asks for; None keeps the tokenizer's own."""
    if not setting or setting in OWN_TEMPLATE:
        return None
    return builtin(setting) or setting


def apply_chat_template_setting(lock: RunLock, tokenizer) -> None:
    """Set tokenizer.chat_template from the lock; check it can mask the assistant's turns."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    text = template_for(lock.get("model.chat_template"))
    if text:
        tokenizer.chat_template = text
    if not tokenizer.chat_template:
        raise lock.fail("model.chat_template", "FTC505",
                        "the tokenizer has no chat template, and messages data needs one",
                        "set model.chat_template: chatml (or llama3, or a Jinja template)")
    if has_generation_markers(tokenizer.chat_template):
        return
    try:
        patched = get_training_chat_template(tokenizer)
    except Exception:  # noqa: BLE001 - TRL raises for templates it does not know
        patched = None
    if not patched:
        raise lock.fail("model.chat_template", "FTC505",
                        "the chat template has no {% generation %} markers, so the loss "
                        "cannot be limited to the assistant's turns",
                        "set model.chat_template: chatml or llama3, or add "
                        "{% generation %}...{% endgeneration %} around the assistant text")
