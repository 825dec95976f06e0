"""A one-stage object detector's training step and post-processing, written as the
torchvision / RetinaNet / YOLO code people copy: anchors from `torch.meshgrid(indexing="ij")`,
pairwise IoU and GIoU by hand (`torch.max`/`torch.min` of broadcast corners,
`clamp(min=0)`, `prod`), anchor matching with `max(dim)`, `nonzero(as_tuple=True)` and
`topk`, a sigmoid focal loss written out, `F.binary_cross_entropy_with_logits(pos_weight=)`,
`F.smooth_l1_loss(beta=)` and `F.huber_loss(delta=)` on box deltas, a GIoU loss, then
score thresholding, `argsort(descending=True)` and NMS as a Python loop, and
`torch.ops.torchvision`-free `batched_nms` by coordinate offsets. Trained by AdamW with a
OneCycleLR, its state dict saved and loaded.

Run: python detection_losses_nms.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES, GRID, STRIDE = 2, 4, 4.0


def box_area(boxes):
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def box_iou(a, b):
    lt = torch.max(a[:, None, :2], b[None, :, :2])
    rb = torch.min(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=2)
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return inter / union, union


def generalized_iou(a, b):
    iou, union = box_iou(a, b)
    lt = torch.min(a[:, None, :2], b[None, :, :2])
    rb = torch.max(a[:, None, 2:], b[None, :, 2:])
    hull = (rb - lt).clamp(min=0).prod(dim=2)
    return iou - (hull - union) / hull


def sigmoid_focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(logits)
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce * ((1 - p_t) ** gamma)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * loss).sum()


def nms(boxes, scores, threshold):
    order = scores.argsort(descending=True)
    keep = []
    while order.numel() > 0:
        i = order[0]
        keep.append(i.item())
        if order.numel() == 1:
            break
        iou, _ = box_iou(boxes[i].unsqueeze(0), boxes[order[1:]])
        order = order[1:][iou.squeeze(0) <= threshold]
    return torch.tensor(keep, dtype=torch.long)


def batched_nms(boxes, scores, labels, threshold):
    offsets = labels.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, threshold)


def make_anchors():
    ys, xs = torch.meshgrid(torch.arange(GRID), torch.arange(GRID), indexing="ij")
    centers = (torch.stack([xs, ys], dim=-1).reshape(-1, 2).float() + 0.5) * STRIDE
    return torch.cat([centers - 3.0, centers + 3.0], dim=1)


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 1))
        self.cls = nn.Conv2d(8, NUM_CLASSES, 1)
        self.box = nn.Conv2d(8, 4, 1)

    def forward(self, images):
        features = F.relu(self.body(images))
        features = F.adaptive_avg_pool2d(features, GRID)
        cls = self.cls(features).flatten(2).transpose(1, 2)
        box = self.box(features).flatten(2).transpose(1, 2)
        return cls, box


def make_batch(count):
    images, targets = [], []
    for i in range(count):
        x0, y0 = 1.0 + (i * 5) % 8, 2.0 + (i * 3) % 7
        w, h = 5.0 + i % 3, 4.0 + (i * 2) % 4
        image = torch.zeros(1, 16, 16)
        image[0, int(y0) : int(y0 + h), int(x0) : int(x0 + w)] = 1.0 if i % 2 else 0.5
        images.append(image)
        targets.append((torch.tensor([[x0, y0, x0 + w, y0 + h]]), torch.tensor([i % 2])))
    return torch.stack(images), targets


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.53 + i)
            p.copy_(values.view_as(p) / math.sqrt(p[0].numel() if p.dim() > 1 else 8))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    anchors = make_anchors()
    images, targets = make_batch(6)
    model = Head()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.02, total_steps=12)
    pos_weight = torch.tensor([2.0, 1.5])
    losses, matched = [], []
    for step in range(12):
        cls_logits, deltas = model(images)
        focal = bce = reg = huber = giou_loss = 0.0
        for b, (gt_boxes, gt_labels) in enumerate(targets):
            iou, _ = box_iou(anchors, gt_boxes)
            best_iou, best_gt = iou.max(dim=1)
            best_anchor = iou.argmax(dim=0)
            positive = best_iou >= 0.3
            positive[best_anchor] = True
            pos_idx = positive.nonzero(as_tuple=True)[0]
            if step == 0:
                matched.append(pos_idx.tolist())
            one_hot = torch.zeros_like(cls_logits[b])
            one_hot[pos_idx, gt_labels[best_gt[pos_idx]]] = 1.0
            focal = focal + sigmoid_focal_loss(cls_logits[b], one_hot) / max(1, len(pos_idx))
            bce = bce + F.binary_cross_entropy_with_logits(
                cls_logits[b], one_hot, pos_weight=pos_weight
            )
            target_boxes = gt_boxes[best_gt[pos_idx]]
            wanted = (target_boxes - anchors[pos_idx]) / STRIDE
            reg = reg + F.smooth_l1_loss(deltas[b, pos_idx], wanted, beta=1 / 9)
            huber = huber + F.huber_loss(deltas[b, pos_idx], wanted, delta=0.5, reduction="sum")
            predicted = anchors[pos_idx] + deltas[b, pos_idx] * STRIDE
            giou = torch.diagonal(generalized_iou(predicted, target_boxes))
            giou_loss = giou_loss + (1 - giou).mean()
        loss = focal + 0.5 * bce + reg + 0.1 * huber + giou_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(round(loss.item(), 5))

    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    model.eval()
    with torch.no_grad():
        cls_logits, deltas = model(images[:2])
        scores, labels = cls_logits[0].sigmoid().max(dim=1)
        boxes = anchors + deltas[0] * STRIDE
        top_scores, top_idx = scores.topk(6)
        keep = batched_nms(boxes[top_idx], top_scores, labels[top_idx], threshold=0.4)
        kept = top_idx[keep]
        single = nms(boxes, scores, 0.2)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "matched": matched,
                "kept": kept.tolist(),
                "kept_scores": [round(s, 4) for s in scores[kept].tolist()],
                "single_class_keep": single.tolist()[:5],
                "giou_self": round(generalized_iou(boxes[:3], boxes[:3]).trace().item(), 4),
                "lr": round(scheduler.get_last_lr()[0], 8),
            }
        )
    )


if __name__ == "__main__":
    main()
