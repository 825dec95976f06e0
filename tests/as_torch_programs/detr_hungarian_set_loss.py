"""A DETR-style set-prediction detector as the reference code writes it: a tiny CNN backbone
flattened to tokens with a sine position encoding (`torch.cumsum` over a not-mask,
`torch.stack((pos.sin(), pos.cos()), dim=4).flatten(3)`), `nn.TransformerEncoder` /
a hand-stacked decoder of `nn.TransformerDecoderLayer` returning intermediate outputs
(`torch.stack`) for auxiliary losses, learned object queries
(`nn.Embedding.weight.unsqueeze(1).repeat(1, bs, 1)`), the Hungarian matcher under
`@torch.no_grad()` (class cost from `softmax`, L1 box cost by `torch.cdist(p=1)`, GIoU cost,
`C.view(bs, q, -1).cpu().split(sizes, -1)` and `scipy.optimize.linear_sum_assignment` on
NumPy), matched indices back through `torch.as_tensor(..., dtype=torch.int64)` and
`torch.full_like` batch indices, a "no object" class down-weighted through a registered
`empty_weight` buffer, box conversions by `unbind(-1)` / `torch.stack(dim=-1)`, and
`clip_grad_norm_`.

Run: python detr_hungarian_set_loss.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment


def box_cxcywh_to_xyxy(x):
    cx, cy, w, h = x.unbind(-1)
    return torch.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def generalized_box_iou(a, b):
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = torch.max(a[:, None, :2], b[:, :2])
    rb = torch.min(a[:, None, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    union = area_a[:, None] + area_b - inter
    iou = inter / union
    lt_c = torch.min(a[:, None, :2], b[:, :2])
    rb_c = torch.max(a[:, None, 2:], b[:, 2:])
    area_c = (rb_c - lt_c).clamp(min=0).prod(-1)
    return iou - (area_c - union) / area_c


def sine_position(mask, dim=16, temperature=10000.0):
    not_mask = ~mask
    y = not_mask.cumsum(1, dtype=torch.float32)
    x = not_mask.cumsum(2, dtype=torch.float32)
    scale = 2 * math.pi
    y = y / (y[:, -1:, :] + 1e-6) * scale
    x = x / (x[:, :, -1:] + 1e-6) * scale
    dim_t = torch.arange(dim // 2, dtype=torch.float32)
    dim_t = temperature ** (2 * (dim_t // 2) / (dim // 2))
    pos_x = x[:, :, :, None] / dim_t
    pos_y = y[:, :, :, None] / dim_t
    pos_x = torch.stack((pos_x[:, :, :, 0::2].sin(), pos_x[:, :, :, 1::2].cos()), dim=4).flatten(3)
    pos_y = torch.stack((pos_y[:, :, :, 0::2].sin(), pos_y[:, :, :, 1::2].cos()), dim=4).flatten(3)
    return torch.cat((pos_y, pos_x), dim=3).permute(0, 3, 1, 2)


class TinyDETR(nn.Module):
    def __init__(self, num_classes=2, queries=4, d=16):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU())
        self.input_proj = nn.Conv2d(8, d, 1)
        layer = nn.TransformerEncoderLayer(d, 2, 32, dropout=0.0)
        self.encoder = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.decoder_layers = nn.ModuleList(
            [nn.TransformerDecoderLayer(d, 2, 32, dropout=0.0) for _ in range(2)]
        )
        self.decoder_norm = nn.LayerNorm(d)
        self.query_embed = nn.Embedding(queries, d)
        self.class_embed = nn.Linear(d, num_classes + 1)
        self.bbox_embed = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 4))

    def forward(self, images):
        features = self.backbone(images)
        mask = torch.zeros(features.shape[0], *features.shape[2:], dtype=torch.bool)
        pos = sine_position(mask).flatten(2).permute(2, 0, 1)
        src = self.input_proj(features).flatten(2).permute(2, 0, 1)
        memory = self.encoder(src + pos)
        bs = images.shape[0]
        query = self.query_embed.weight.unsqueeze(1).repeat(1, bs, 1)
        tgt = torch.zeros_like(query)
        intermediate = []
        for layer in self.decoder_layers:
            tgt = layer(tgt + query, memory + pos)
            intermediate.append(self.decoder_norm(tgt))
        hs = torch.stack(intermediate).transpose(1, 2)
        return self.class_embed(hs), self.bbox_embed(hs).sigmoid()


class HungarianMatcher(nn.Module):
    def __init__(self, cost_class=1.0, cost_bbox=5.0, cost_giou=2.0):
        super().__init__()
        self.cost_class, self.cost_bbox, self.cost_giou = cost_class, cost_bbox, cost_giou

    @torch.no_grad()
    def forward(self, logits, boxes, targets):
        bs, q = logits.shape[:2]
        out_prob = logits.flatten(0, 1).softmax(-1)
        out_bbox = boxes.flatten(0, 1)
        tgt_ids = torch.cat([t["labels"] for t in targets])
        tgt_bbox = torch.cat([t["boxes"] for t in targets])
        cost = (
            self.cost_bbox * torch.cdist(out_bbox, tgt_bbox, p=1)
            - self.cost_class * out_prob[:, tgt_ids]
            - self.cost_giou
            * generalized_box_iou(box_cxcywh_to_xyxy(out_bbox), box_cxcywh_to_xyxy(tgt_bbox))
        )
        cost = cost.view(bs, q, -1).cpu()
        sizes = [len(t["boxes"]) for t in targets]
        indices = [linear_sum_assignment(c[i]) for i, c in enumerate(cost.split(sizes, -1))]
        return [
            (torch.as_tensor(i, dtype=torch.int64), torch.as_tensor(j, dtype=torch.int64))
            for i, j in indices
        ]


class SetCriterion(nn.Module):
    def __init__(self, num_classes, matcher, eos_coef=0.1):
        super().__init__()
        self.num_classes, self.matcher = num_classes, matcher
        empty_weight = torch.ones(num_classes + 1)
        empty_weight[-1] = eos_coef
        self.register_buffer("empty_weight", empty_weight)

    def single(self, logits, boxes, targets):
        indices = self.matcher(logits, boxes, targets)
        batch_idx = torch.cat([torch.full_like(src, i) for i, (src, _) in enumerate(indices)])
        src_idx = torch.cat([src for src, _ in indices])
        target_classes = torch.full(logits.shape[:2], self.num_classes, dtype=torch.int64)
        target_classes[batch_idx, src_idx] = torch.cat(
            [t["labels"][j] for t, (_, j) in zip(targets, indices)]
        )
        loss_ce = F.cross_entropy(logits.transpose(1, 2), target_classes, self.empty_weight)
        src_boxes = boxes[batch_idx, src_idx]
        tgt_boxes = torch.cat([t["boxes"][j] for t, (_, j) in zip(targets, indices)], dim=0)
        num_boxes = max(float(len(tgt_boxes)), 1.0)
        loss_bbox = F.l1_loss(src_boxes, tgt_boxes, reduction="none").sum() / num_boxes
        giou = torch.diag(
            generalized_box_iou(box_cxcywh_to_xyxy(src_boxes), box_cxcywh_to_xyxy(tgt_boxes))
        )
        loss_giou = (1 - giou).sum() / num_boxes
        return loss_ce + 5 * loss_bbox + 2 * loss_giou, indices

    def forward(self, all_logits, all_boxes, targets):
        total, last_indices = 0.0, None
        for logits, boxes in zip(all_logits, all_boxes):  # auxiliary losses per decoder layer
            loss, last_indices = self.single(logits, boxes, targets)
            total = total + loss
        return total, last_indices


def make_scenes(count=4):
    """Images with one or two bright rectangles; boxes in normalised (cx, cy, w, h)."""
    images, targets = [], []
    for i in range(count):
        image = torch.zeros(1, 8, 8)
        boxes, labels = [], []
        for k in range(1 + i % 2):
            x0, y0 = (i + 3 * k) % 5, (2 * i + k) % 5
            w, h = 2 + k, 3 - k
            image[0, y0 : y0 + h, x0 : x0 + w] = 1.0 + k
            boxes.append([(x0 + w / 2) / 8, (y0 + h / 2) / 8, w / 8, h / 8])
            labels.append(k)
        images.append(image + 0.05 * torch.sin(torch.arange(64.0) + i).view(1, 8, 8))
        targets.append({"boxes": torch.tensor(boxes), "labels": torch.tensor(labels)})
    return torch.stack(images), targets


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if "norm" in name:
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.57 + i)
            p.copy_(values.view_as(p) / math.sqrt(p.shape[-1] if p.dim() > 1 else 8))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(9)
    images, targets = make_scenes()
    model = TinyDETR()
    if args.deterministic:
        fixed_init(model)
    criterion = SetCriterion(2, HungarianMatcher())
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    losses, matches = [], []
    for _step in range(6):
        model.train()
        logits, boxes = model(images)
        loss, indices = criterion(logits, boxes, targets)
        optimizer.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        optimizer.step()
        losses.append(round(loss.item(), 5))
        matches.append([src.tolist() for src, _ in indices])
    model.eval()
    with torch.no_grad():
        logits, boxes = model(images)
        probs = logits[-1].softmax(-1)[..., :-1]
        scores, labels = probs.max(-1)
        xyxy = box_cxcywh_to_xyxy(boxes[-1])
    torch.save(
        {"model": model.state_dict(), "empty_weight": criterion.empty_weight}, args.checkpoint
    )
    state = torch.load(args.checkpoint)
    restored = TinyDETR()
    restored.load_state_dict(state["model"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "matches": matches[-1],
                "grad_norm": round(norm.item(), 4),
                "scores": [round(v, 4) for v in scores[0].tolist()],
                "labels": labels[0].tolist(),
                "box": [round(v, 4) for v in xyxy[0, 0].tolist()],
                "aux_layers": logits.shape[0],
                "empty_weight": state["empty_weight"].tolist(),
                "pos_shape": list(sine_position(torch.zeros(1, 2, 3, dtype=torch.bool)).shape),
            }
        )
    )


if __name__ == "__main__":
    main()
