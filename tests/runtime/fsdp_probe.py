"""Run under `accelerate launch`: writes what accelerate made of the launch (rank-N.json).

cpu=True as the runtime's TrainingArguments(use_cpu=True) asks for a CPU bundle (without
it, accelerate finds no GPU and each process trains alone: no process group at all).
"""

import json
import sys
from pathlib import Path

from accelerate import Accelerator

accelerator = Accelerator(cpu=True)
state = accelerator.state
Path(sys.argv[1], f"rank-{state.process_index}.json").write_text(json.dumps({
    "distributed_type": str(state.distributed_type),
    "fsdp_plugin": getattr(state, "fsdp_plugin", None) is not None,
    "world_size": state.num_processes,
}))
accelerator.wait_for_everyone()
accelerator.end_training()
