"""Self-distillation without labels as the DINO and BYOL reference code write it: a student
and an EMA teacher (built anew and `load_state_dict` from the student, since a
`weight_norm` module cannot be deep-copied, `requires_grad = False`), multi-crop views made by
slicing and `F.interpolate(mode="bilinear", align_corners=False, antialias=True/False)`, a
projection head whose last layer is `nn.utils.weight_norm` with `weight_g` frozen at 1, the
DINO loss (teacher softmax centred by a running `center` buffer and sharpened by a warm-up
temperature schedule, student `log_softmax`, cross-views only), the teacher updated under
`torch.no_grad()` with `torch._foreach_mul_` / `torch._foreach_add_(alpha=)` and a cosine
momentum schedule, DINO's per-parameter gradient clipping (`p.grad.data.norm(2)`,
`mul_(clip_coef)`), the last layer's gradient cancelled in the first epoch (`p.grad = None`),
and a BYOL-style `2 - 2 * cosine` loss through a predictor with `.detach()` as stop-gradient.

Run: python dino_ema_multicrop.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIM = 16


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=1),
            nn.GELU(),
            nn.Conv2d(6, 8, 3, stride=2, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def forward(self, x):
        return self.features(x)


class DINOHead(nn.Module):
    def __init__(self, in_dim, out_dim, bottleneck=6):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(in_dim, 12), nn.GELU(), nn.Linear(12, bottleneck))
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, out_dim, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        self.last_layer.weight_g.requires_grad = False

    def forward(self, x):
        x = nn.functional.normalize(self.mlp(x), dim=-1, p=2)
        return self.last_layer(x)


class MultiCropWrapper(nn.Module):
    """Runs the backbone once per run of same-sized crops, as DINO's wrapper does."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, crops):
        sizes = torch.tensor([c.shape[-1] for c in crops])
        idx_crops = torch.cumsum(torch.unique_consecutive(sizes, return_counts=True)[1], 0)
        start, output = 0, []
        for end in idx_crops.tolist():
            output.append(self.backbone(torch.cat(crops[start:end])))
            start = end
        return self.head(torch.cat(output))


class DINOLoss(nn.Module):
    def __init__(self, out_dim, ncrops, warmup_temp, temp, warmup_epochs, epochs):
        super().__init__()
        self.student_temp, self.ncrops, self.center_momentum = 0.1, ncrops, 0.9
        self.register_buffer("center", torch.zeros(1, out_dim))
        self.teacher_temp_schedule = torch.cat(
            (
                torch.linspace(warmup_temp, temp, warmup_epochs),
                torch.ones(epochs - warmup_epochs) * temp,
            )
        )

    def forward(self, student_output, teacher_output, epoch):
        student_out = (student_output / self.student_temp).chunk(self.ncrops)
        temp = self.teacher_temp_schedule[epoch]
        teacher_out = F.softmax((teacher_output - self.center) / temp, dim=-1).detach().chunk(2)
        total, n_terms = 0, 0
        for iq, q in enumerate(teacher_out):
            for v in range(len(student_out)):
                if v == iq:
                    continue
                total += torch.sum(-q * F.log_softmax(student_out[v], dim=-1), dim=-1).mean()
                n_terms += 1
        self.update_center(teacher_output)
        return total / n_terms

    @torch.no_grad()
    def update_center(self, teacher_output):
        batch_center = torch.sum(teacher_output, dim=0, keepdim=True) / len(teacher_output)
        self.center = self.center * self.center_momentum + batch_center * (1 - self.center_momentum)


def multi_crop(images):
    """Two global views (bilinear, no antialias) and two local ones (antialias=True)."""
    g1 = F.interpolate(images, size=(8, 8), mode="bilinear", align_corners=False)
    g2 = F.interpolate(images.flip(-1)[..., 1:11, 1:11], size=8, mode="bilinear", antialias=False)
    l1 = F.interpolate(images[..., :7, :7], size=(4, 4), mode="bilinear", antialias=True)
    l2 = F.interpolate(images[..., 4:, 4:], scale_factor=0.5, mode="bilinear", antialias=True)
    return [g1, g2, l1, l2]


def clip_gradients(model, clip):
    norms = []
    for _, p in model.named_parameters():
        if p.grad is not None:
            param_norm = p.grad.data.norm(2)
            norms.append(param_norm.item())
            clip_coef = clip / (param_norm + 1e-6)
            if clip_coef < 1:
                p.grad.data.mul_(clip_coef)
    return norms


def cosine_scheduler(base, final, steps):
    return [
        final + 0.5 * (base - final) * (1 + math.cos(math.pi * i / steps)) for i in range(steps)
    ]


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            if p.requires_grad:
                values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
                p.copy_(values.view_as(p) * (0.4 if p.dim() > 1 else 0.05))


def make_images(n):
    yy, xx = torch.meshgrid(torch.arange(12.0), torch.arange(12.0), indexing="ij")
    k = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1)
    channel = torch.arange(3.0).view(1, 3, 1, 1)
    return torch.sin(0.4 * xx * (1 + k % 3) + 0.3 * yy * channel + k) * torch.cos(0.2 * yy + k)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    student = MultiCropWrapper(Backbone(), DINOHead(8, OUT_DIM))
    if args.deterministic:
        fixed_init(student)
    teacher = MultiCropWrapper(Backbone(), DINOHead(8, OUT_DIM))
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters():
        p.requires_grad = False
    predictor = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 8))
    if args.deterministic:
        fixed_init(predictor)

    epochs, batches = 3, 2
    dino_loss = DINOLoss(OUT_DIM, 4, 0.04, 0.07, 2, epochs)
    params = [p for p in student.parameters() if p.requires_grad] + list(predictor.parameters())
    optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
    momentum_schedule = cosine_scheduler(0.9, 1.0, epochs * batches)
    images = make_images(8)
    if not args.deterministic:
        images = images + 0.05 * torch.randn_like(images)

    losses, grad_norms, it = [], [], 0
    for epoch in range(epochs):
        for batch in images.chunk(batches):
            crops = multi_crop(batch)
            teacher_output = teacher(crops[:2])
            student_output = student(crops)
            loss = dino_loss(student_output, teacher_output, epoch)
            online = predictor(student.backbone(crops[0]))
            target = teacher.backbone(crops[1]).detach()
            byol = (2 - 2 * F.cosine_similarity(online, target, dim=-1)).mean()
            optimizer.zero_grad()
            (loss + 0.5 * byol).backward()
            grad_norms.append(max(clip_gradients(student, 0.5)))
            if epoch == 0:
                for n, p in student.named_parameters():
                    if "last_layer" in n:
                        p.grad = None
            optimizer.step()
            with torch.no_grad():
                m = momentum_schedule[it]
                names_q = [n for n, p in student.named_parameters() if p.requires_grad]
                params_q = [p for p in student.parameters() if p.requires_grad]
                params_k = [dict(teacher.named_parameters())[n] for n in names_q]
                torch._foreach_mul_(params_k, m)
                torch._foreach_add_(params_k, params_q, alpha=1 - m)
            losses.append(loss.item())
            it += 1

    torch.save({"teacher": teacher.state_dict(), "center": dino_loss.center}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    again = MultiCropWrapper(Backbone(), DINOHead(8, OUT_DIM))
    again.load_state_dict(state["teacher"])
    with torch.no_grad():
        probs = F.softmax((again(multi_crop(images)[:1]) - state["center"]) / 0.07, dim=-1)
    crops = multi_crop(images[:1])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "grad_norms": grad_norms,
                "crop_shapes": [list(c.shape) for c in crops],
                "crop_sums": [c.sum().item() for c in crops],
                "center": state["center"][0, :4].tolist(),
                "teacher_argmax": probs.argmax(-1).tolist(),
                "weight_g_frozen": not again.head.last_layer.weight_g.requires_grad,
                "momentum": [round(m, 4) for m in momentum_schedule],
            }
        )
    )


if __name__ == "__main__":
    main()
