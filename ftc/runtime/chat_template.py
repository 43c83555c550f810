"""Which chat template renders `messages` data, per `model.chat_template`.

'model' keeps the tokenizer's own, 'chatml' and 'llama3' are built in, anything
else is a Jinja template. Training on the assistant's turns only needs a
template with `{% generation %}` markers; TRL patches the templates it knows
(Qwen, Llama 3, ...), so a template that has neither is refused before the
model loads, with the fix in the hint.
"""

from __future__ import annotations

from ftc.runtime.run_lock import RunLock
from ftc.runtime.tiny_model import CHAT_TEMPLATE as CHATML


def builtin(name: str) -> str | None:
    if name == "chatml":
        return CHATML
    if name == "llama3":
        from trl.chat_template_utils import llama3_training_chat_template

        return llama3_training_chat_template
    return None


def apply_chat_template_setting(lock: RunLock, tokenizer) -> None:
    """Set tokenizer.chat_template from the lock; check it can mask the assistant's turns."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    setting = lock.get("model.chat_template", "model")
    if setting != "model":
        tokenizer.chat_template = builtin(setting) or setting
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
