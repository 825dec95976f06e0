"""Neural style transfer as PyTorch's tutorial (Gatys et al.) writes it: a frozen conv feature
extractor (`requires_grad_(False)`, `eval()`), a `Normalization` module with
`view(-1, 1, 1)` mean / std, content and style loss modules inserted into a rebuilt
`nn.Sequential` by walking `named_children` and cut after the last loss, Gram matrices by
`torch.mm(features, features.t())`, the input image itself optimised by `LBFGS([image])`
with a closure that clamps `image.data` in place, features also taken by
`register_forward_hook`, a total-variation term, `torch.cdist` between Gram rows, the
image's `grad` checked against `torch.autograd.grad`, and the result saved as a tensor.

Run: python neural_style_transfer_lbfgs.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import copy
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZE = 8


def make_images():
    rows = torch.arange(SIZE, dtype=torch.float32).view(SIZE, 1)
    cols = torch.arange(SIZE, dtype=torch.float32).view(1, SIZE)
    content = torch.stack(
        [
            (rows > 3).float().expand(SIZE, SIZE),
            (cols > 2).float().expand(SIZE, SIZE),
            0.5 * torch.ones(SIZE, SIZE),
        ]
    ).unsqueeze(0)
    stripes = (0.5 + 0.5 * torch.sin(rows.double() * 1.3 + cols.double() * 0.7)).float()
    style = torch.stack([stripes, 1 - stripes, stripes.t()]).unsqueeze(0)
    return content, style


def gram_matrix(x):
    batch, channels, height, width = x.size()
    features = x.view(batch * channels, height * width)
    return torch.mm(features, features.t()).div(batch * channels * height * width)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, x):
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, x):
        self.loss = F.mse_loss(gram_matrix(x), self.target)
        return x


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


def feature_extractor():
    cnn = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.ReLU(inplace=False),
        nn.Conv2d(6, 6, 3, padding=1),
        nn.ReLU(inplace=False),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1),
    )
    with torch.no_grad():
        for i, p in enumerate(cnn.parameters()):
            # float64 sin, then rounded: float32 sin differs in the last bit between libraries
            # and LBFGS would amplify it
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.61 + i)
            p.copy_((0.3 * values).float().view_as(p))
    return cnn.eval().requires_grad_(False)


def build_model(cnn, content, style):
    cnn = copy.deepcopy(cnn)
    model = nn.Sequential(Normalization([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]))
    content_losses, style_losses = [], []
    conv_index = 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            conv_index += 1
            name = f"conv_{conv_index}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu_{conv_index}"
            layer = nn.ReLU(inplace=False)
        else:
            name = f"pool_{conv_index}"
        model.add_module(name, layer)
        if name == "conv_3":
            target = model(content).detach()
            content_loss = ContentLoss(target)
            model.add_module(f"content_loss_{conv_index}", content_loss)
            content_losses.append(content_loss)
        if name in {"conv_1", "conv_2", "conv_3", "conv_4"}:
            style_loss = StyleLoss(model(style).detach())
            model.add_module(f"style_loss_{conv_index}", style_loss)
            style_losses.append(style_loss)
    last = max(i for i, m in enumerate(model) if isinstance(m, (ContentLoss, StyleLoss)))
    return model[: last + 1], style_losses, content_losses


def total_variation(img):
    return (img[..., 1:, :] - img[..., :-1, :]).pow(2).mean() + (
        img[..., :, 1:] - img[..., :, :-1]
    ).pow(2).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    content, style = make_images()
    cnn = feature_extractor()
    model, style_losses, content_losses = build_model(cnn, content, style)
    if args.deterministic:
        image = content.clone()
    else:
        image = (content + 0.1 * torch.randn_like(content)).clamp(0, 1)
    image.requires_grad_(True)
    optimizer = torch.optim.LBFGS([image], lr=0.8, max_iter=4, history_size=5)
    captured = {}
    handle = model.conv_2.register_forward_hook(lambda m, i, o: captured.update(conv_2=o.detach()))
    losses, evaluations = [], [0]

    def closure():
        with torch.no_grad():
            image.clamp_(0, 1)
        optimizer.zero_grad()
        model(image)
        style_score = sum(sl.loss for sl in style_losses) * 1000.0
        content_score = sum(cl.loss for cl in content_losses)
        loss = style_score + content_score + 0.1 * total_variation(image)
        loss.backward()
        evaluations[0] += 1
        return loss

    for _ in range(2):
        losses.append(optimizer.step(closure).item())
    handle.remove()
    with torch.no_grad():
        image.clamp_(0, 1)

    model(image)
    loss = sum(sl.loss for sl in style_losses)
    (grad,) = torch.autograd.grad(loss, image)
    gram_rows = torch.cdist(
        gram_matrix(captured["conv_2"]),
        gram_matrix(model.conv_2(model.relu_1(model.conv_1(model[0](style))))),
    )
    torch.save(image.detach(), args.checkpoint)
    restored = torch.load(args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "layers": [name for name, _ in model.named_children()],
                "evaluations": evaluations[0],
                "func_evals": optimizer.state[image]["func_evals"],
                "style_final": round(loss.item(), 6),
                "grad_abs_mean": round(grad.abs().mean().item() * 1000, 5),
                "gram_distance": round(gram_rows.diagonal().mean().item(), 5),
                "pixel_range": [round(image.min().item(), 4), round(image.max().item(), 4)],
                "changed": round((image - content).abs().mean().item(), 5),
                "frozen": not any(p.requires_grad for p in cnn.parameters()),
                "restored": bool(torch.equal(restored, image.detach())),
            }
        )
    )


if __name__ == "__main__":
    main()
