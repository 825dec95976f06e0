"""What scripts print while they debug, and a weights-only checkpoint: tensors of many dtypes
and sizes through print() (summarised `...` tensors, float16, bfloat16, bool, int8, int64,
complex, scientific notation, negative zero, inf and nan, 0-d and empty tensors, tensors with
requires_grad and grad_fn), `set_printoptions`, a model with a custom `extra_repr`,
`print(optimizer)`, `state_dict()` keys and shapes, `named_buffers`, `torch.finfo`/`iinfo`,
`torch.Size`, dtype and device reprs; the state saved and loaded with `weights_only=True`.

Run: python printing_zoo_checkpoint.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import io
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = io.StringIO()


def show(*args, **kwargs):
    print(*args, **kwargs, file=OUT)


class Scaled(nn.Module):
    def __init__(self, features, scale=2.0):
        super().__init__()
        self.features = features
        self.scale = scale
        self.weight = nn.Parameter(torch.ones(features))
        self.register_buffer("running", torch.zeros(features))

    def extra_repr(self):
        return f"features={self.features}, scale={self.scale}"

    def forward(self, x):
        return x * self.weight * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(6, 8),
            nn.LayerNorm(8, elementwise_affine=True),
            nn.SiLU(),
            nn.Dropout(p=0.25),
            Scaled(8),
        )
        self.heads = nn.ModuleDict({"a": nn.Linear(8, 2), "b": nn.Linear(8, 3, bias=False)})
        self.extra = nn.ModuleList([nn.Identity(), nn.Softmax(dim=-1)])
        self.embed = nn.Embedding(10, 4, padding_idx=0)
        self.conv = nn.Conv1d(2, 3, kernel_size=3, padding=1, groups=1, bias=True)
        self.bn = nn.BatchNorm1d(3, momentum=0.2)

    def forward(self, x):
        h = self.body(x)
        return self.heads["a"](h), self.extra[1](self.heads["b"](h))


def tensors():
    show(torch.arange(2000).reshape(40, 50))
    show(torch.linspace(0, 1, 1500))
    show(torch.tensor([1.5, -0.0, float("inf"), float("-inf"), float("nan")]))
    show(torch.tensor([1e-8, 1.0, 1e8]))
    show(torch.tensor([123456.789, 0.001]))
    show(torch.tensor([1.0, 2.0, 3.0]))
    show(torch.tensor([[0.25, -1.5], [3.0, 4.125]], dtype=torch.float16))
    show(torch.tensor([0.1, 2.5, -3.0], dtype=torch.bfloat16))
    show(torch.tensor([0.1, 0.2], dtype=torch.float64))
    show(torch.tensor([True, False, True]))
    show(torch.tensor([-3, 0, 127], dtype=torch.int8))
    show(torch.tensor([1, 2, 3], dtype=torch.int32))
    show(torch.tensor([10**12, -5]))
    show(torch.tensor([1 + 2j, -0.5 - 1j]))
    show(torch.tensor(3.25))
    show(torch.tensor(7))
    show(torch.zeros(0, 3))
    show(torch.empty(2, 0, dtype=torch.int64))
    show(torch.ones(2, 3, requires_grad=True))
    w = torch.full((2, 2), 0.5, requires_grad=True)
    show(w * 2)
    show((w * 2).sum())
    show(torch.zeros(3, 2, 2))
    show(torch.arange(6.0).reshape(2, 3).t())
    show(torch.randn(3, 4).shape, torch.Size([2, 3]), torch.Size([]))
    show(torch.float32, torch.int64, torch.bool, torch.complex64, torch.bfloat16)
    show(torch.device("cpu"), repr(torch.device("cpu")), torch.device("cpu", 0))
    show(torch.finfo(torch.float32))
    show(torch.finfo(torch.float16).eps, torch.finfo(torch.bfloat16).max)
    show(torch.iinfo(torch.int32))
    show(torch.tensor([0.5]).item(), torch.tensor([2]).tolist(), torch.tensor(1.5).dtype)
    show(f"{torch.tensor(2.5).item():.3f}", f"{torch.tensor(2.5):.2f}")
    show(torch.tensor([1.0, 2.0]).__repr__() == str(torch.tensor([1.0, 2.0])))
    torch.set_printoptions(precision=2)
    show(torch.tensor([3.14159, 2.71828]))
    torch.set_printoptions(sci_mode=True)
    show(torch.tensor([3.14159, 2.71828]))
    torch.set_printoptions(profile="default")
    show(torch.tensor([3.14159, 2.71828]))
    torch.set_printoptions(threshold=5, edgeitems=2)
    show(torch.arange(10))
    torch.set_printoptions(profile="default")
    show(torch.tensor([[1, 2], [3, 4]]).numpy().tolist())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    tensors()
    model = Net()
    show(model)
    show(model.body[4])
    show(sum(p.numel() for p in model.parameters() if p.requires_grad))
    for name, value in model.state_dict().items():
        show(name, tuple(value.shape), value.dtype)
    show([name for name, _ in model.named_buffers()])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.05)
    show(optimizer)
    sgd = torch.optim.SGD(
        [{"params": model.body.parameters()}, {"params": model.heads.parameters(), "lr": 0.1}],
        lr=0.01,
        momentum=0.9,
    )
    show(sgd)
    show(optimizer.state_dict()["param_groups"][0]["lr"], list(optimizer.state_dict().keys()))

    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) + i).view_as(p))
    x = torch.cos(torch.arange(24, dtype=torch.float32)).view(4, 6)
    y = torch.tensor([0, 1, 1, 0])
    model.eval()
    losses = []
    for _ in range(3):
        a, b = model(x)
        loss = F.cross_entropy(a, y) + b.pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    show(loss)
    show(a.detach())
    show(b[0])
    show(optimizer.state_dict()["state"][0]["exp_avg"].shape)
    show(optimizer.state_dict()["state"][0]["step"])
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "shape": x.shape,
            "dtype": torch.float16,
            "classes": {0, 1},
        },
        args.checkpoint,
    )
    state = torch.load(args.checkpoint, weights_only=True)
    show(state["model"]["heads.a.weight"])
    show(type(state["model"]).__name__, state["shape"], state["dtype"], state["classes"])
    show({k: v for k, v in state["model"].items() if k.startswith("bn.")})
    again = Net()
    show(again.load_state_dict(state["model"]))
    show(
        again.load_state_dict(
            {k: v for k, v in state["model"].items() if "heads" not in k}, strict=False
        )
    )
    again.eval()
    with torch.no_grad():
        same = torch.equal(again(x)[0], model(x)[0])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "same": same,
                "printed": OUT.getvalue().splitlines(),
            }
        )
    )


if __name__ == "__main__":
    main()
