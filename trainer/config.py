"""A training run's settings: `TrainConfig`, saved as they are in the run folder.

`asdict(TrainConfig)` is what checkpoint/run.json and train.json hold, so a field keeps its
name and meaning while runs that saved it may resume (trainer.checkpoint reads them back).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trainer.model import DEFAULT_BLOCKS


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 80
    batch_size: int = 128
    seed: int = 1234
    learning_rate: float = 2e-3
    weight_decay: float = 0.05
    warmup_epochs: int = 2
    label_smoothing: float = 0.1
    patience: int = 30
    limit: int | None = None
    drop_duplicates: bool = True
    init_from: str | None = None  # a run's .keras, or a shipped .tflite, to continue from
    blocks: tuple[tuple[int, int], ...] = DEFAULT_BLOCKS
    dropout: float = 0.4
    is_separable: bool = False  # depthwise-separable convolutions after the first block
    precision: str = "auto"  # auto | float32 | mixed_bfloat16 (see resolve_precision)
    # Off in the shipped recipe: neither paid in the fine-tunes of models/README.md
    mixup: float = 0.0  # Beta(a, a) mixing of face pairs, e.g. 0.2; 0 turns it off
    ema: float = 0.0  # momentum of the weight average validated and saved, e.g. 0.999; 0: off
    distill_from: tuple[str, ...] = ()  # teachers (.keras or .tflite) whose crops scores to learn
    distill_weight: float = 0.5  # share of the teacher's scores in each target
    labels: str = "fer2013"  # fer2013 (one label per face) | ferplus (the crowd's vote shares)
    label_mix: float = 0.0  # with ferplus: share of the FER2013 label blended into each target
    is_single_vote_dropped: bool = False  # with ferplus: Barsoum's processing, 1 vote is noise
    ferplus: str | None = None  # the FER+ votes file, aligned to the FER2013 .npz
    augment: dict[str, float] = field(default_factory=lambda: {
        "rotation": 0.04, "shift": 0.1, "zoom": 0.1, "contrast": 0.3,
        "brightness": 0.2, "erase": 0.25})


PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def resolve_precision(name: str, cpu_flags: set[str] | None = None) -> str:
    """`auto` picks bf16 only where the CPU runs it natively (AMX or AVX-512 BF16).

    Without those units TensorFlow emulates bf16 and a step gets slower, not faster.
    """
    if name not in PRECISIONS:
        raise ValueError(f"precision {name!r} is not one of {PRECISIONS}")
    if name != "auto":
        return name
    flags = _cpu_flags() if cpu_flags is None else cpu_flags
    return "mixed_bfloat16" if flags & {"amx_bf16", "avx512_bf16"} else "float32"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.partition(":")[2].split())
