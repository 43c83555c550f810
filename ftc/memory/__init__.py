"""Memory before launch: estimate per-GPU peak memory, check fit, recommend an approach.

Compiler-side (no torch, transformers, peft, ...).  Modules, one job each:
units (sizes), data (the YAML tables beside this file), shapes (model
architectures), gpus (accelerator table), workload (what a lock asks for),
terms (bytes per parameter, optimizer states, partitioning), activations,
lora, zero (ZeRO/DeepSpeed formulas), accelerate_rule (the 4 x weights
baseline), estimator (the breakdown), fit (the check and its ranked fixes),
recommend (the decision tree), oracle (published figures to test against),
report (text for `ftc estimate`), recipe_writer (`ftc new`).
"""
