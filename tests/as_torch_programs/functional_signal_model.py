"""A frequency classifier written in PyTorch's functional top-level style: the device from
torch.accelerator, windowed signals
(torch.hann_window, torch.pi), a model of raw parameters called through torch.conv1d,
torch.layer_norm, torch.relu_, torch.max_pool1d and torch.dropout(train=...), a loss with
torch.binary_cross_entropy_with_logits' integer reduction, class counts by torch.bincount,
-torch.inf masking, a ridge read-out solved with torch.cholesky_solve, and a checkpoint
saved and resumed.

Run: python functional_signal_model.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
from torch.utils.data import DataLoader, TensorDataset

LENGTH, CLASSES = 32, 3


def make_data():
    """Sines of three frequencies (one class each) at several phases, windowed."""
    t = torch.arange(LENGTH, dtype=torch.float32) / LENGTH
    phases = torch.linspace(0, 2 * torch.pi, 8)
    frequencies = torch.tensor([2.0, 5.0, 9.0])
    waves = torch.sin(
        2 * torch.pi * frequencies[:, torch.newaxis, torch.newaxis] * t + phases[:, None]
    )
    signals = torch.multiply(waves.reshape(-1, LENGTH), torch.hann_window(LENGTH))
    labels = torch.arange(CLASSES).repeat_interleave(len(phases))
    return signals[:, None, :], labels


def make_parameters(deterministic):
    shapes = {"conv": (6, 1, 5), "scale": (6, 14), "shift": (6, 14), "head": (CLASSES, 6 * 7)}
    parameters = {}
    for i, (name, shape) in enumerate(shapes.items()):
        if deterministic:
            values = torch.cos(
                torch.arange(torch.Size(shape).numel(), dtype=torch.float32) * 0.7 + i
            )
            values = torch.divide(values.reshape(shape), 3.0)
        else:
            values = torch.randn(shape) / 3
        parameters[name] = torch.nn.Parameter(values + (1.0 if name == "scale" else 0.0))
    return parameters


def features(parameters, x, train):
    h = torch.conv1d(x, parameters["conv"], None, 2, 0)  # (N, 6, 14)
    h = torch.layer_norm(h, [6, 14], parameters["scale"], parameters["shift"], 1e-5, True)
    torch.relu_(h)
    h = torch.max_pool1d(h, 2)  # (N, 6, 7)
    h = torch.dropout(h, 0.2, train=train)
    return h.flatten(1)


def logits(parameters, x, train):
    return features(parameters, x, train) @ parameters["head"].T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)
    use_accelerator = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accelerator else torch.device("cpu")
    signals, labels = make_data()
    signals, labels = signals.to(device), labels.to(device)
    counts = torch.bincount(labels, minlength=CLASSES)
    loader = DataLoader(
        TensorDataset(signals, labels), batch_size=8, shuffle=not args.deterministic
    )

    parameters = {
        k: torch.nn.Parameter(v.to(device)) for k, v in make_parameters(args.deterministic).items()
    }
    optimizer = torch.optim.SGD(parameters.values(), lr=0.2, momentum=0.9)
    train = not args.deterministic  # no dropout where the losses are compared with PyTorch's

    def run_epochs(epochs):
        history = []
        for _ in range(epochs):
            total = 0.0
            for x, y in loader:
                optimizer.zero_grad()
                targets = torch.nn.functional.one_hot(y, CLASSES).float()
                loss = torch.binary_cross_entropy_with_logits(
                    logits(parameters, x, train), targets, None, None, 1
                )
                loss.backward()
                optimizer.step()
                total += loss.item()
            history.append(total / len(loader))
        return history

    losses = run_epochs(4)
    torch.save(
        {
            "parameters": {k: v.detach() for k, v in parameters.items()},
            "optimizer": optimizer.state_dict(),
        },
        args.checkpoint,
    )
    state = torch.load(args.checkpoint, weights_only=True)
    with torch.no_grad():
        for name, value in state["parameters"].items():
            parameters[name].copy_(value)
    optimizer.load_state_dict(state["optimizer"])
    losses += run_epochs(4)

    with torch.no_grad():
        scores = logits(parameters, signals, False)
        # a class the caller rules out gets -inf, as programs mask logits
        masked = scores.masked_fill(torch.arange(CLASSES, device=device) == 1, -torch.inf)
        accuracy = (scores.argmax(1) == labels).float().mean().item()
        # ridge read-out on the learned features, solved with a Cholesky factor
        phi = features(parameters, signals, False)
        gram = phi.T @ phi + 0.1 * torch.eye(phi.shape[1], device=device)
        weights = torch.cholesky_solve(
            phi.T @ torch.nn.functional.one_hot(labels).float(), torch.linalg.cholesky(gram)
        )
        ridge_accuracy = ((phi @ weights).argmax(1) == labels).float().mean().item()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "accuracy": accuracy,
                "ridge_accuracy": ridge_accuracy,
                "never_class_1": bool((masked.argmax(1) != 1).all()),
                "counts": counts.tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
