"""How generated images are judged (evaluate_generator.py's report, tune_generator.py's choice of
defaults): samples drawn with the extension's sampling rules and seeds, decoded and rounded to the
panel's 8-bit pixels, classified by a linear judge on the tokenizer's frozen teacher's features."""
import time

import numpy as np
import torch
import torch.nn.functional as F

from imagefolder.data import to_tensor
from imagefolder.metrics import to_bytes
from imagefolder.model import Teacher
from imagefolder.sampling import generate


def load_teacher(tok_ck):
    t = Teacher(len(tok_ck["labels"]), feat_dim=tok_ck["model_config"]["width"])
    t.load_state_dict({k: v.float() for k, v in tok_ck["teacher"].items()})
    return t.eval()


def teacher_labels(classes, labels):
    """The teacher's label index of each generator class ("Flags" is the data's "emoji:Flags")."""
    out = []
    for c in classes:
        hits = [i for i, n in enumerate(labels) if n == c or n.endswith(":" + c)]
        if len(hits) != 1:
            raise SystemExit(f"generator class {c!r} matches {len(hits)} teacher labels")
        out.append(hits[0])
    return out


@torch.no_grad()
def teacher_features(teacher, images_uint8, batch=128):
    """One teacher pass -> (last stage's pooled features [N, D], the Frechet space; every stage's
    pooled map concatenated [N, D'], the judge's input), float64."""
    last, every = [], []
    for i in range(0, len(images_uint8), batch):
        stages, pooled = teacher.features(to_tensor(images_uint8[i:i + batch]))
        last.append(pooled)
        every.append(Teacher.all_stages_pooled(stages))
    return torch.cat(last).double(), torch.cat(every).double()


class Judge:
    """A linear classifier of the generator's classes on the frozen teacher's pooled features of
    all four stages, fitted to the training images with class-balanced weights. The teacher's own
    head was trained on all the data's labels with batches balanced over sources, not classes; on
    the emoji categories it mostly answers the frequent ones. Built-in model, validation accuracy
    averaged over classes: teacher's head 0.41, linear on the last stage 0.55, on all stages 0.68
    (colour and shape from the early stages tell e.g. flags and smileys apart)."""

    def __init__(self, feats, target, n_classes, weight_decay=1e-3, steps=300):
        torch.manual_seed(0)
        self.mu, self.sd = feats.mean(0), feats.std(0) + 1e-6
        x, y = ((feats - self.mu) / self.sd).float(), torch.from_numpy(target)
        count = torch.bincount(y, minlength=n_classes).float().clamp_min(1)
        self.lin = torch.nn.Linear(x.shape[1], n_classes)
        opt = torch.optim.LBFGS(self.lin.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(self.lin(x), y, weight=count.sum() / (n_classes * count)) + weight_decay * self.lin.weight.pow(2).sum()
            loss.backward()
            return loss
        opt.step(closure)

    @torch.no_grad()
    def __call__(self, feats):
        return self.lin(((feats - self.mu) / self.sd).float()).argmax(1).numpy()


def of_classes(split, label_ids):
    """A split's images of the generator's classes and their generator class index."""
    keep = np.isin(split["labels"], label_ids)
    return split["images"][keep], np.array([label_ids.index(int(l)) for l in split["labels"][keep]], np.int64)


def fit_judge(tok_ck, classes, train):
    """The frozen teacher, and the judge fitted on the training images of the generator's classes.
    Returns (teacher, judge, training features of the last stage, their class targets)."""
    teacher = load_teacher(tok_ck)
    images, target = of_classes(train, teacher_labels(classes, tok_ck["labels"]))
    feats, judged = teacher_features(teacher, images)
    return teacher, Judge(judged, target, len(classes)), feats, target


def per_class_accuracy(pred, target, classes):
    acc = {c: float((pred[target == i] == i).mean()) for i, c in enumerate(classes) if (target == i).any()}
    return {"perClass": acc, "mean": float(np.mean(list(acc.values()))), "overall": float((pred == target).mean()),
            "images": {c: int((target == i).sum()) for i, c in enumerate(classes)}}


def sample_images(gen, tok, n_per_class, seed, cfg, batch, **sampling):
    """n_per_class samples of every class (class-major) -> uint8 images [C*n, S, S, 3], labels, CPU seconds.
    sampling: generate()'s top_k, top_p, temperature (default: the package defaults)."""
    C, N = gen.cfg.num_classes, len(gen.cfg.scales)
    cls = torch.arange(C).repeat_interleave(n_per_class)
    sample = torch.arange(n_per_class).repeat(C)
    out, t0 = [], time.process_time()
    for i in range(0, len(cls), batch):
        idx = generate(gen, tok, cls[i:i + batch], seed=seed, sample_ids=sample[i:i + batch].tolist(), cfg=cfg, **sampling)
        with torch.no_grad():
            out.append(to_bytes(tok.decode(idx, torch.ones(len(idx), 2, N))).numpy())
    return np.concatenate(out), cls.numpy(), time.process_time() - t0
