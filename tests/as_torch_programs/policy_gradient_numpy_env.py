"""Actor-critic on a small NumPy environment, as RL tutorials write it: observations arrive
as np.float64 arrays (torch.from_numpy(...).float()), rewards as np.float64 scalars collected in
a list and turned into a tensor with torch.tensor (float64, as PyTorch infers it), discounted
returns normalised with std, a Categorical policy head (log_prob, entropy) and a Normal head
with a learned log-std, a PPO-style clipped objective with torch.min/torch.clamp, smooth L1
value loss, SGD with momentum, gradient clipping, torch.save of model and optimizer.

Run: python policy_gradient_numpy_env.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Normal


class Corridor:
    """Walk left/stay/right along a line with a continuous 'push'; reward for nearing 0."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def reset(self):
        self.position = 3.0 + self.rng.uniform(-0.5, 0.5)
        self.t = 0
        return self.observe()

    def observe(self):
        return np.array([self.position / 4.0, np.sin(self.position), self.t / 10.0])

    def step(self, action, push):
        self.position += (action - 1) * 0.5 + 0.1 * np.tanh(push)
        self.t += 1
        reward = -abs(self.position) * 0.1 + (1.0 if abs(self.position) < 0.5 else 0.0)
        return self.observe(), np.float64(reward), self.t >= 10


class ActorCritic(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 24), nn.Tanh(), nn.Linear(24, 24), nn.ELU())
        self.logits = nn.Linear(24, 3)
        self.mu = nn.Linear(24, 1)
        self.log_std = nn.Parameter(torch.full((1,), -0.5))
        self.value = nn.Linear(24, 1)

    def forward(self, obs):
        h = self.body(obs)
        return (
            Categorical(logits=self.logits(h)),
            Normal(self.mu(h).squeeze(-1), self.log_std.exp()),
            self.value(h).squeeze(-1),
        )


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + i)
            p.copy_(values.view_as(p) * 0.3)


def discounted(rewards, gamma):
    returns, running = [], 0.0
    for r in reversed(rewards):
        running = r + gamma * running
        returns.insert(0, running)
    return returns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    env = Corridor(seed=0)
    model = ActorCritic()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    losses, returns_dtype = [], None
    for _ in range(6):
        obs = env.reset()
        observations, actions, pushes, rewards = [], [], [], []
        done = False
        while not done:
            state = torch.from_numpy(obs).float()
            with torch.no_grad():
                discrete, continuous, _ = model(state.unsqueeze(0))
                if args.deterministic:
                    action = discrete.probs.argmax(-1)
                    push = continuous.mean
                else:
                    action, push = discrete.sample(), continuous.sample()
            obs, reward, done = env.step(action.item(), push.item())
            observations.append(state)
            actions.append(action.item())
            pushes.append(push.item())
            rewards.append(reward)

        returns = torch.tensor(discounted(rewards, 0.9))
        returns_dtype = str(returns.dtype)
        returns = (returns - returns.mean()) / (returns.std() + 1e-8)
        obs_batch = torch.stack(observations)
        discrete, continuous, values = model(obs_batch)
        log_prob = discrete.log_prob(torch.tensor(actions)) + continuous.log_prob(
            torch.tensor(pushes)
        )
        advantage = (returns - values.detach()).float()
        ratio = torch.exp(log_prob - log_prob.detach())
        surrogate = torch.min(ratio * advantage, torch.clamp(ratio, 0.8, 1.2) * advantage)
        value_loss = F.smooth_l1_loss(values, returns.float())
        entropy = discrete.entropy().mean() + continuous.entropy().mean()
        loss = -surrogate.mean() + 0.5 * value_loss - 0.01 * entropy
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())

    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)
    checkpoint = torch.load(args.checkpoint)
    again = ActorCritic()
    again.load_state_dict(checkpoint["model"])
    probe = torch.from_numpy(env.reset()).float().unsqueeze(0)
    discrete, continuous, value = again(probe)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "returns_dtype": returns_dtype.split(".")[-1],
                "probs": discrete.probs[0].tolist(),
                "push_mean": continuous.mean.item(),
                "value": value.item(),
                "momentum_buffer": checkpoint["optimizer"]["state"][0]["momentum_buffer"][
                    0
                ].tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
