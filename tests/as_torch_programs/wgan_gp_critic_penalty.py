"""A WGAN-GP on 8x8 toy images, as the improved-WGAN reference code and its tutorials write it:
a critic of strided Conv2d + InstanceNorm2d(affine=True) + LeakyReLU(0.2) with a LayerNorm
head, a generator of ConvTranspose2d(output_padding=1) + BatchNorm2d + ReLU + Tanh, the
gradient penalty from interpolates (`torch.rand(b, 1, 1, 1)` mixing, `requires_grad_(True)`)
through `torch.autograd.grad(..., grad_outputs=torch.ones_like(...), create_graph=True,
retain_graph=True, only_inputs=True)`, `grad.view(b, -1).norm(2, dim=1)`, n_critic steps per
generator step, two Adam optimizers with betas=(0.5, 0.9), the critic frozen with
`requires_grad_(False)` for the generator step, `mean().backward(mone)`-style signs, and a
checkpoint of both nets and optimizers.

Run: python wgan_gp_critic_penalty.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
from torch import autograd

LATENT = 6


class Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 4, 4, stride=2, padding=1),
            nn.InstanceNorm2d(4, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4, 8, 4, stride=2, padding=1),
            nn.InstanceNorm2d(8, affine=True),
            nn.LeakyReLU(0.2, inplace=True),
        )
        self.head = nn.Sequential(nn.Flatten(), nn.LayerNorm(32), nn.Linear(32, 1))

    def forward(self, x):
        return self.head(self.main(x)).view(-1)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(LATENT, 8 * 2 * 2)
        self.main = nn.Sequential(
            nn.BatchNorm2d(8),
            nn.ReLU(True),
            nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(True),
            nn.ConvTranspose2d(4, 1, 3, stride=2, padding=1, output_padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        return self.main(self.fc(z).view(-1, 8, 2, 2))


def fixed_init(model, offset):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            pattern = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.9 + i + offset)
            p.copy_(pattern.view_as(p) * 0.4)


def real_batch(step, size):
    """Blobs at a position that drifts with the sample index: a smooth target distribution."""
    grid = torch.arange(8, dtype=torch.float32)
    centre = 3.5 + 2 * torch.sin(torch.arange(size, dtype=torch.float32) + step)
    rows = (grid.view(1, 8, 1) - centre.view(-1, 1, 1)) ** 2
    cols = (grid.view(1, 1, 8) - 3.5) ** 2
    return (torch.exp(-(rows + cols) / 4) * 2 - 1).unsqueeze(1)


def gradient_penalty(critic, real, fake, alpha):
    interpolates = alpha * real + (1 - alpha) * fake
    interpolates.requires_grad_(True)
    scores = critic(interpolates)
    gradients = autograd.grad(
        outputs=scores,
        inputs=interpolates,
        grad_outputs=torch.ones_like(scores),
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)

    critic, generator = Critic(), Generator()
    if args.deterministic:
        fixed_init(critic, 0.0)
        fixed_init(generator, 1.0)
    opt_c = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.9))
    one = torch.tensor(1.0)
    mone = one * -1
    batch, n_critic, lambda_gp = 8, 3, 10.0

    losses, penalties, distances = [], [], []
    for step in range(6):
        for p in critic.parameters():
            p.requires_grad_(True)
        for inner in range(n_critic):
            real = real_batch(step * n_critic + inner, batch)
            if args.deterministic:
                noise = torch.sin(torch.arange(batch * LATENT, dtype=torch.float32) + inner)
                noise = noise.view(batch, LATENT)
                alpha = torch.linspace(0.1, 0.9, batch).view(batch, 1, 1, 1)
            else:
                noise = torch.randn(batch, LATENT)
                alpha = torch.rand(batch, 1, 1, 1)
            critic.zero_grad()
            d_real = critic(real).mean()
            d_real.backward(mone)
            with torch.no_grad():
                fake = generator(noise)
            d_fake = critic(fake.detach()).mean()
            d_fake.backward(one)
            penalty = gradient_penalty(critic, real, fake, alpha.expand_as(real))
            (lambda_gp * penalty).backward()
            opt_c.step()
        distances.append((d_real - d_fake).item())
        penalties.append(penalty.item())

        for p in critic.parameters():
            p.requires_grad_(False)
        generator.zero_grad()
        if args.deterministic:
            noise = torch.cos(torch.arange(batch * LATENT, dtype=torch.float32) * 1.3 + step)
            noise = noise.view(batch, LATENT)
        else:
            noise = torch.randn(batch, LATENT)
        g_loss = -critic(generator(noise)).mean()
        g_loss.backward()
        opt_g.step()
        losses.append(g_loss.item())
        frozen_grads = [p.grad is None for p in critic.parameters()][:2]

    torch.save(
        {
            "critic": critic.state_dict(),
            "generator": generator.state_dict(),
            "opt_c": opt_c.state_dict(),
            "opt_g": opt_g.state_dict(),
        },
        args.checkpoint,
    )
    state = torch.load(args.checkpoint)
    restored = Critic()
    restored.load_state_dict(state["critic"])
    restored.eval()
    probe = real_batch(100, 4)
    with torch.no_grad():
        same = torch.allclose(restored(probe), critic(probe))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "penalties": penalties,
                "distances": distances,
                "frozen_grads": frozen_grads,
                "restored_same": same,
                "adam_betas": list(state["opt_c"]["param_groups"][0]["betas"]),
                "adam_steps": float(state["opt_g"]["state"][0]["step"]),
                "instance_norm_keys": sorted(k for k in state["critic"] if k.startswith("main.1")),
                "all_finite": all(math.isfinite(v) for v in losses + penalties),
            }
        )
    )


if __name__ == "__main__":
    main()
