"""Run one method job from a lock on every process of an `accelerate launch`.

    accelerate launch --multi_gpu --num_processes 2 two_process_driver.py LOCK OUT_DIR

Each rank writes OUT_DIR/rank-<k>.json (what it saw and trained); rank 0 also
writes OUT_DIR/result.json (metrics before and after, outputs). The process
group is torn down at the end, as the runtime does, so the exit code is honest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(lock_path: str, out_dir: str) -> int:
    from accelerate import PartialState

    from ftc.runtime.methods.run import build_job, prepare_inputs, train_job
    from ftc.runtime.run_lock import load_run_lock

    out = Path(out_dir)
    lock = load_run_lock(lock_path)
    tokenizer, splits, args = prepare_inputs(lock, out / "run")
    args.disable_tqdm = True
    state = PartialState()
    job = build_job(lock, tokenizer, splits, args)
    trainer = job.stages[0].trainer
    before = trainer.evaluate()
    result = train_job(job, out / "run")
    record = {"rank": state.process_index, "world_size": state.num_processes,
              "distributed_type": str(state.distributed_type),
              "steps": trainer.state.global_step,
              "train_examples": len(splits.train)}
    (out / f"rank-{state.process_index}.json").write_text(json.dumps(record))
    if state.is_main_process:
        logged = [{k: v for k, v in h.items() if isinstance(v, (int, float))}
                  for h in trainer.state.log_history]
        (out / "result.json").write_text(json.dumps(
            {"before": before, "after": result.stages[job.stages[0].name],
             "outputs": result.outputs, "log": logged}, default=str))
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:3]))
