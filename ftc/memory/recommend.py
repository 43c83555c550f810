"""Which approach to take: a walk through the decision tree (decision_tree.yaml).

Each step records the question, the answer and the reason, so that
`ftc recommend` can print the path it took.  Memory questions are answered
with the estimator when a base model and a GPU size are known.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ftc.memory import tasks
from ftc.memory.data import table
from ftc.memory.errors import MemoryInputError
from ftc.memory.estimator import estimate
from ftc.memory.fit import usable
from ftc.memory.units import fmt
from ftc.memory.workload import from_values

TASKS = tasks.TASKS


@dataclass
class Step:
    question: str
    answer: str  # yes | no
    reason: str


@dataclass
class Recommendation:
    approach: str
    text: str
    then: str | None
    steps: list[Step] = field(default_factory=list)
    guidance: str | None = None
    task: str | None = None


@dataclass
class Inputs:
    examples: int
    task: str | None = None
    gpu_memory: int | None = None  # bytes
    gpu_label: str | None = None
    base_model: str | None = None
    provider_model: str | None = None
    reward_model: str | None = None
    max_seq_length: int = 2048


def approach_values(approach: str, base: str, seq: int) -> dict:
    """A resolved-looking recipe for `approach` at its cheapest settings (micro batch 1, GC)."""
    kind = {"lora": "lora", "qlora": "qlora", "full": "full"}[approach]
    method: dict = {"kind": kind}
    if kind in ("lora", "qlora"):
        method["lora"] = {"r": 16, "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"]}
    return {"model": {"base": base, "max_seq_length": seq}, "method": method,
            "training": {"micro_batch_size": 1, "gradient_accumulation": 16,
                         "precision": "bf16", "gradient_checkpointing": True},
            "hardware": {"accelerator": "gpu", "gpus": 1, "nodes": 1, "world_size": 1,
                         "strategy": "none"}}


def _fits(approach: str, inputs: Inputs) -> tuple[bool | None, str]:
    if not inputs.base_model or not inputs.gpu_memory:
        missing = " and ".join(m for m, v in (("--base-model", inputs.base_model),
                                              ("--gpu/--gpu-memory", inputs.gpu_memory)) if not v)
        return None, f"unknown without {missing}"
    try:
        est = estimate(from_values(approach_values(approach, inputs.base_model,
                                                   inputs.max_seq_length)))
    except MemoryInputError as exc:
        return None, f"cannot estimate: {exc.note.message}"
    need = usable(est)
    # the high end too, as the fit check's FTC406 does: what is picked fits, not "maybe"
    verdict = est.high - est.evictable <= inputs.gpu_memory
    label = inputs.gpu_label or "the GPU"
    return verdict, (f"{approach} needs about {fmt(need)} at micro batch 1 with gradient "
                     f"checkpointing and {inputs.max_seq_length} tokens; {label} has "
                     f"{fmt(inputs.gpu_memory)}")


def _answer(test, inputs: Inputs, thresholds: dict) -> tuple[bool | None, str]:
    if test == "provider_model":
        return (bool(inputs.provider_model),
                f"--provider-model {inputs.provider_model}" if inputs.provider_model
                else "no provider model given")
    if test == "reward_model":
        return (bool(inputs.reward_model),
                f"reward model {inputs.reward_model}" if inputs.reward_model
                else "no reward model given (--reward-model)")
    (kind, arg), = test.items()
    if kind == "task":
        return inputs.task == arg, f"task is {inputs.task or 'not given'}"
    if kind == "examples_below":
        limit = thresholds[arg]
        return inputs.examples < limit, f"{inputs.examples:,} examples"
    if kind == "fits":
        return _fits(arg, inputs)
    raise ValueError(f"decision_tree.yaml: unknown test {test!r}")


def recommend(inputs: Inputs) -> Recommendation:
    """Walk the tree for these inputs; every step says why."""
    if inputs.examples < 0:
        raise ValueError("--examples must be >= 0")
    tree = table("decision_tree")
    steps: list[Step] = []
    name = tree["start"]
    while name in tree["nodes"]:
        node = tree["nodes"][name]
        verdict, reason = _answer(node["test"], inputs, tree["thresholds"])
        if verdict is None:
            verdict = node.get("unknown", "yes") == "yes"
            reason += f"; assuming {'yes' if verdict else 'no'}"
        steps.append(Step(node["question"], "yes" if verdict else "no", reason))
        name = node["yes"] if verdict else node["no"]
    leaf = _fitting_leaf(tree, tree["leaves"][name], inputs, steps)
    task = inputs.task or ("alignment" if leaf["approach"] in ("dpo", "rlhf") else None)
    return Recommendation(leaf["approach"], leaf["text"], leaf.get("then"), steps,
                          tree["guidance"].get(task) if task else None, task)


# The next cheaper approach when one does not fit the named GPU.
CHEAPER = {"full": "lora", "lora": "qlora"}


def _fitting_leaf(tree: dict, leaf: dict, inputs: Inputs, steps: list[Step]) -> dict:
    """The tree's leaf, or a cheaper one when the estimator says it does not fit the GPU.

    The tree decides by data size and goal; the memory estimate has the last word, so
    that what recommend (and `ftc new`) picks is what the fit check then accepts.
    """
    approach = leaf["approach"]
    if not (inputs.base_model and inputs.gpu_memory) or approach not in (*CHEAPER, "qlora"):
        return leaf
    while True:
        verdict, reason = _fits(approach, inputs)
        if verdict is not False:
            break
        if approach not in CHEAPER:
            steps.append(Step(f"does {approach} fit the GPU?", "no", reason + ": no "
                              "single-GPU approach fits; use more GPUs (hardware.gpus with "
                              "zero3 or fsdp) or a smaller model"))
            break
        steps.append(Step(f"does {approach} fit the GPU?", "no", reason))
        approach = CHEAPER[approach]
    if approach == leaf["approach"]:
        return leaf
    return next(lf for lf in tree["leaves"].values() if lf["approach"] == approach)
