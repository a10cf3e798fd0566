"""The one training configuration of the built-in model (imagefolder-mini). Override any field
on the command line: `python3 training/train.py --hours 2 --batch 32`."""
from dataclasses import dataclass, field

from imagefolder.model import TokenizerConfig


@dataclass
class TrainConfig:
    model: TokenizerConfig = field(default_factory=lambda: TokenizerConfig(spatial_prior=True))
    model_name: str = "imagefolder-mini"
    # teacher (stands in for DINOv2): a small CNN trained on the data's category labels, then frozen
    teacher_steps: int = 500
    teacher_batch: int = 64
    teacher_lr: float = 2e-3
    # tokenizer
    hours: float = 2.0  # wall-clock budget; the lr schedule follows elapsed time so resumes are exact
    batch: int = 32
    lr: float = 6e-4
    min_lr_ratio: float = 0.1
    warmup_steps: int = 100
    weight_decay: float = 0.05
    betas: tuple = (0.9, 0.95)
    ema: float = 0.998
    l1_weight: float = 0.2
    perceptual_weight: float = 0.1
    commit_weight: float = 0.25
    semantic_weight: float = 0.1
    # Reference uses logit scale 1 on 768-d DINOv2 targets; with 32-d targets and batch 32 that
    # leaves the softmax near uniform, so the small model uses 10 (a temperature of 0.1).
    semantic_logit_scale: float = 10.0
    # Semantic-branch recipe knobs (training/experiments.md measures them; defaults are the paper's
    # arrangement as shipped). Target of the InfoNCE: "shared" = the teacher's pooled feature through
    # the encoder's own width -> code_dim projection (gradients reach it from both sides), "detached" =
    # the same projection with the target side's gradient stopped, "head" = a separate trainable head.
    semantic_target: str = "shared"
    # Where the InfoNCE's gradient goes. "straight-through": the prediction is the straight-through
    # f_hat (f_hat's value, f's gradient), as VAR-style quantizers return it in the authors' code, so
    # the loss reaches the encoder and can change which tokens the branch picks. "codebook": the raw
    # sum of looked-up codes, so only the codebook and the Phi convs learn from it and the encoder
    # never does (how the built-in model up to 2026-12-05 was trained).
    semantic_grad: str = "codebook"
    # Scales the prediction is pooled over: 0 = all (the paper), k = the first k only (the coarse
    # tokens; issue 19's "semantic loss on the coarse scales only").
    semantic_scales: int = 0
    # The teacher's feature the InfoNCE targets: "last" (its last stage pooled, the paper's CLS) or
    # "all-stages" (every stage pooled and concatenated; needs semantic_target "head", since the
    # shared projection takes the last stage's width).
    semantic_teacher_feature: str = "last"
    semantic_warmup_steps: int = 0  # ramp the semantic weight from 0 over this many steps
    # Deviation from the paper when > 0: the decoder sees the detail branch zeroed for this fraction
    # of samples, so a semantic-only decode is in distribution and the semantic branch must carry
    # the coarse image on its own.
    detail_dropout: float = 0.0
    quantizer_dropout: float = 0.1
    dropout_min_scales: int = 3
    restart_every: int = 20
    restart_until: float = 0.85  # stop dead-code restarts late so the EMA weights settle
    checkpoint_minutes: float = 5.0
    log_every: int = 10
    seed: int = 0
