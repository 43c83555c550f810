"""Knowledge distillation: the student (model.base) learns the teacher's next-token distribution.

Logit distillation on the recipe's supervised data (Hinton et al. 2015), as a
loss on TRL's SFTTrainer (the same data pipeline, masking and packing as SFT):

    loss = alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * cross-entropy(labels)

over the tokens SFT trains on (assistant turns / completions), with T =
method.distill.temperature. TRL's own DistillationTrainer is on-policy (the
student generates, the loss is a generalized JSD, no label term), and the
experimental GKDTrainer ignores the temperature in its loss; neither has the
recipe's alpha, so the loss sits on SFTTrainer instead (as the design allows).
The teacher is frozen, in eval mode, and must share the student's vocabulary;
under DeepSpeed it is prepared like TRL prepares reference models.
"""

from __future__ import annotations

from pathlib import Path

from ftc.runtime.methods.common import load_policy, save_policy
from ftc.runtime.methods.interface import MethodBase, MethodContext, MethodJob, Stage
from ftc.runtime.methods.teacher import load_teacher
from ftc.runtime.run_lock import RunLock


def distillation_loss(student_logits, teacher_logits, labels, temperature: float, alpha: float,
                      num_items_in_batch=None):
    """(loss, kd sum, ce sum, tokens) for next-token logits (B, T, V) and labels (B, T).

    Positions whose next label is -100 do not count. Sums are returned so callers
    can log per-token means; the loss divides by num_items_in_batch (every token of
    the accumulated batch, like TRL's SFT loss) or by this batch's tokens.
    """
    import torch
    import torch.nn.functional as F

    s = student_logits[:, :-1].float()
    t = teacher_logits[:, :-1].float()
    target = labels[:, 1:]
    mask = target != -100
    s, t, target = s[mask], t[mask], target[mask]
    kd = F.kl_div(F.log_softmax(s / temperature, dim=-1), F.log_softmax(t / temperature, dim=-1),
                  reduction="none", log_target=True).sum(-1) * temperature ** 2
    ce = F.cross_entropy(s, target, reduction="none")
    n = mask.sum()
    denom = torch.as_tensor(n if num_items_in_batch is None else num_items_in_batch,
                            device=s.device).clamp(min=1)
    loss = (alpha * kd.sum() + (1 - alpha) * ce.sum()) / denom
    return loss, kd.detach().sum(), ce.detach().sum(), n


def distill_trainer_class():
    """The runtime's SFT trainer class with the distillation loss and a frozen teacher."""
    import torch

    from ftc.runtime.methods.sft import trainer_class

    class DistillTrainer(trainer_class()):
        def __init__(self, *args, teacher, temperature: float, alpha: float, **kwargs):
            super().__init__(*args, **kwargs)
            self.temperature, self.alpha = float(temperature), float(alpha)
            if self.is_deepspeed_enabled:
                from trl.models import prepare_deepspeed

                self.teacher = prepare_deepspeed(teacher, self.accelerator)
            else:
                self.teacher = self.accelerator.prepare_model(teacher, evaluation_mode=True)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            mode = "train" if self.model.training else "eval"
            labels = inputs["labels"]
            forward = {k: v for k, v in inputs.items() if k != "labels"}
            forward["use_cache"] = False
            outputs = model(**forward)
            with torch.no_grad():
                teacher_logits = self.teacher(**forward).logits
            loss, kd_sum, ce_sum, n = distillation_loss(
                outputs.logits, teacher_logits, labels, self.temperature, self.alpha,
                num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes  # DDP averages gradients (as SFT does)
            n_all = self.accelerator.gather_for_metrics(n).sum().clamp(min=1)
            kd_all = self.accelerator.gather_for_metrics(kd_sum).sum()
            ce_all = self.accelerator.gather_for_metrics(ce_sum).sum()
            self._metrics[mode]["distill_kl"].append((kd_all / n_all).item()
                                                     / self.temperature ** 2)
            self._metrics[mode]["ce_loss"].append((ce_all / n_all).item())
            return (loss, outputs) if return_outputs else loss

        def perplexity_loss(self, logs: dict, prefix: str) -> float | None:
            """The cross-entropy part (exp of the mixed loss is no perplexity)."""
            values = self._metrics["eval"].get("ce_loss")
            return sum(values) / len(values) if f"{prefix}_loss" in logs and values else None

    return DistillTrainer


def build_distill(ctx: MethodContext) -> MethodJob:
    """One SFT-data stage with the distillation loss; saves the student like SFT does."""
    from ftc.runtime.data_loading import to_dataset

    lock = ctx.lock
    block = lock.get("method.distill") or {}

    def factory():
        model, peft_config = load_policy(lock, ctx.args)
        teacher = load_teacher(lock, model.config.get_text_config().vocab_size)
        if ctx.args.packing:  # padding-free packed batches reach the teacher too
            from ftc.runtime.packing import use_packed_attention

            for m in (model, teacher):
                use_packed_attention(m, lock.get("model.attn_implementation", "sdpa"))
        return distill_trainer_class()(
            model=model, args=ctx.args, processing_class=ctx.tokenizer,
            train_dataset=to_dataset(ctx.splits.train),
            eval_dataset=to_dataset(ctx.splits.validation), peft_config=peft_config,
            callbacks=list(ctx.callbacks), teacher=teacher,
            temperature=float(block.get("temperature", 2.0)), alpha=float(block.get("alpha", 0.5)))

    stage = Stage("distill", factory, test_dataset=to_dataset(ctx.splits.test))

    def save(run_dir: Path) -> dict[str, str]:
        return save_policy(lock, stage.trainer, ctx.tokenizer, Path(run_dir))

    return MethodJob("distill", [stage], save)


class Distill(MethodBase):
    """Supervised data (with the teacher's generate step first, when asked) and the KD loss.

    The loss mixes KL and cross-entropy, so exp(loss) is no perplexity; the trainer logs
    the perplexity of the cross-entropy part, and the results are the KL to the teacher
    and that perplexity.
    """

    loss_name = "distillation loss"
    perplexity = False

    def results_of(self, history: list[dict]) -> list[dict]:
        from ftc.evaluation.trends import results

        return results(history, [("distill_kl", "KL to the teacher", False),
                                 ("perplexity", "perplexity (cross-entropy part)", False)])

    def prepare_data(self, lock: RunLock, staging: Path):
        """generate (method.distill.generate) joins data.train, then dataprep as for SFT."""
        import json

        from ftc.runtime.data_loading import prepare
        from ftc.runtime.methods.synthetic import mark_synthetic, synthetic_for_run

        data_lock, generated = synthetic_for_run(lock)
        prepared = prepare(data_lock, staging)
        if generated is not None:
            mark_synthetic(prepared.report, generated)
            report = Path(staging) / "report.json"
            report.write_text(json.dumps(prepared.report, indent=2, sort_keys=True) + "\n",
                              encoding="utf-8")
        return prepared

    def build(self, ctx: MethodContext) -> MethodJob:
        return build_distill(ctx)


DISTILL = Distill()
