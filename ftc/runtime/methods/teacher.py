"""The distillation teacher: a frozen model that must share the student's vocabulary.

Both the distill trainer and the generate step (synthetic.py) load it, so it
lives apart from either.
"""

from __future__ import annotations

from ftc.runtime.run_lock import RunLock


def load_teacher(lock: RunLock, student_vocab: int | None, **load_kwargs):
    """The frozen teacher (method.distill.teacher), checked to share the student's vocabulary
    (student_vocab None: no student to compare with, as for the generate step)."""
    from ftc.runtime.methods.common import load_frozen
    from ftc.runtime.model_loading import model_ref

    ref = model_ref(lock, "method.distill.teacher")
    try:
        teacher = load_frozen(lock, ref, lock.get("method.distill.teacher_revision"),
                              **load_kwargs)
    except (OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise lock.fail("method.distill.teacher", "FTC504",
                        f"cannot load the teacher {ref!r}: {first}",
                        "use a local model directory (no model hub is reachable here)") from None
    vocab = teacher.config.get_text_config().vocab_size
    if student_vocab is not None and vocab != student_vocab:
        raise lock.fail("method.distill.teacher", "FTC512",
                        f"the teacher's vocabulary has {vocab} tokens, the student's "
                        f"{student_vocab}: logit distillation needs the same tokenizer",
                        "distill from a teacher of the same model family (same tokenizer)")
    return teacher
