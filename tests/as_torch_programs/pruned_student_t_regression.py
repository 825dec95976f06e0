"""Heteroscedastic regression under a Student-t likelihood, pruned as it trains: an MLP gives
the location and scale, torch.distributions.StudentT scores the targets; after two epochs
torch.nn.utils.prune masks the smallest weights (one layer by L1, then all layers globally),
training goes on through the masks, the pruned state_dict round-trips through torch.save into
a model prepared with prune.identity, and prune.remove makes the masks permanent.
torch.utils._pytree summarises the parameters, torch.utils.benchmark times a forward pass.

Run: python pruned_student_t_regression.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.utils._pytree as pytree
from torch import nn
from torch.distributions import Binomial, StudentT, kl_divergence
from torch.nn.utils import prune
from torch.utils.benchmark import Timer
from torch.utils.data import DataLoader, TensorDataset


def make_model():
    return nn.Sequential(
        nn.Linear(1, 24), nn.Tanh(), nn.Linear(24, 24), nn.Tanh(), nn.Linear(24, 2)
    )


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.7 + i).view_as(p))
            p.mul_(0.5)


def negative_log_likelihood(model, x, y):
    out = model(x)
    loc, scale = out[:, :1], nn.functional.softplus(out[:, 1:]) + 1e-3
    return -StudentT(4.0, loc, scale).log_prob(y).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)

    inputs = torch.linspace(-2, 2, 96).unsqueeze(1)
    targets = torch.sin(2 * inputs) + 0.3 * torch.cos(7 * inputs) * inputs.abs()
    loader = DataLoader(
        TensorDataset(inputs, targets), batch_size=16, shuffle=not args.deterministic
    )
    model = make_model()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

    def run_epochs(count):
        history = []
        for _ in range(count):
            running = 0.0
            for x, y in loader:
                optimizer.zero_grad()
                loss = negative_log_likelihood(model, x, y)
                loss.backward()
                optimizer.step()
                running += loss.item()
            history.append(running / len(loader))
        return history

    losses = run_epochs(2)
    prune.l1_unstructured(model[0], "weight", amount=6)
    layers = [(model[0], "weight"), (model[2], "weight"), (model[4], "weight")]
    prune.global_unstructured(layers, pruning_method=prune.L1Unstructured, amount=0.4)
    # The parameters are weight_orig now: the optimizer keeps updating the same tensors.
    losses += run_epochs(2)
    kept = [int(module.weight_mask.sum().item()) for module, _ in layers]
    keys = sorted(model.state_dict())
    masked_out = all(
        bool((module.weight[module.weight_mask == 0] == 0).all()) for module, _ in layers
    )

    torch.save(model.state_dict(), args.checkpoint)
    reloaded = make_model()
    for module, name in [(reloaded[0], "weight"), (reloaded[2], "weight"), (reloaded[4], "weight")]:
        prune.identity(module, name)
    reloaded.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    for module, name in [(reloaded[0], "weight"), (reloaded[2], "weight"), (reloaded[4], "weight")]:
        prune.remove(module, name)
    with torch.no_grad():
        test_loss = negative_log_likelihood(reloaded, inputs, targets).item()
        same_as_trained = bool(torch.allclose(reloaded(inputs), model(inputs)))

    norms = pytree.tree_map(
        lambda p: round(p.detach().norm().item(), 5), dict(reloaded.named_parameters())
    )
    leaves, spec = pytree.tree_flatten({"batch": (inputs[:2], None), "sizes": [1, 2]})
    counts = Binomial(10, logits=torch.tensor([0.0, 1.0]))
    measurement = Timer("model(x)", globals={"model": reloaded, "x": inputs}).timeit(5)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "test_loss": test_loss,
                "kept": kept,
                "state_dict_keys": keys,
                "masked_out": masked_out,
                "same_as_trained": same_as_trained,
                "pruned": prune.is_pruned(model) and not prune.is_pruned(reloaded),
                "norms": norms,
                "tree": [len(leaves), spec.num_leaves, str(spec).count("*")],
                "binomial": counts.log_prob(torch.tensor([3.0, 9.0])).tolist(),
                "kl": kl_divergence(counts, Binomial(10, logits=torch.tensor([1.0, 0.0]))).tolist(),
                "timed_runs": measurement.number_per_run,
            }
        )
    )


if __name__ == "__main__":
    main()
