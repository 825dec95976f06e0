"""PPO with a tanh-squashed Gaussian policy on a small NumPy point-mass environment, as
continuous-control code (CleanRL, Spinning Up) writes it: observations and rewards arrive as
np.float64 and go through `torch.as_tensor(..., dtype=torch.float32)`, the policy is
`TransformedDistribution(Independent(Normal(mu, std), 1), [TanhTransform(cache_size=1)])`
with its log-probability checked against the hand-written correction
`2 * (log 2 - u - softplus(-2 u))`, a state-independent `log_std` parameter, GAE by a reversed
Python loop over `torch.zeros_like` buffers, advantages normalised, minibatches from
`torch.randperm(n, generator=g).split(size)`, the clipped surrogate with `torch.min` /
`torch.clamp`, a clipped value loss with `torch.max`, the Normal's entropy bonus, an approximate
KL with early stopping, `nn.utils.clip_grad_norm_`, and Adam with `eps=1e-5` and a
`LinearLR` annealing.

Run: python ppo_tanh_gaussian_gae.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, Normal, TanhTransform, TransformedDistribution


class PointMass:
    """Push a unit mass towards the origin; reward -x^2 - 0.1 v^2 - 0.05 a^2 per step."""

    def __init__(self, start):
        self.start = np.asarray(start, dtype=np.float64)

    def reset(self):
        self.state = self.start.copy()
        return self.state.copy()

    def step(self, action):
        x, v = self.state
        a = float(np.clip(action, -1.0, 1.0))
        v = 0.9 * v + 0.2 * a
        x = x + 0.2 * v
        self.state = np.array([x, v])
        reward = -(x**2) - 0.1 * v**2 - 0.05 * a**2
        return self.state.copy(), reward, bool(abs(x) > 2.0)


def layer_init(layer, std=2**0.5, bias=0.0):
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class Agent(nn.Module):
    def __init__(self):
        super().__init__()
        self.critic = nn.Sequential(
            layer_init(nn.Linear(2, 16)), nn.Tanh(), layer_init(nn.Linear(16, 1), std=1.0)
        )
        self.actor_mean = nn.Sequential(
            layer_init(nn.Linear(2, 16)), nn.Tanh(), layer_init(nn.Linear(16, 1), std=0.01)
        )
        self.log_std = nn.Parameter(torch.full((1,), -0.5))

    def dist(self, obs):
        mu = self.actor_mean(obs)
        base = Independent(Normal(mu, self.log_std.exp().expand_as(mu)), 1)
        return TransformedDistribution(base, [TanhTransform(cache_size=1)]), base

    def value(self, obs):
        return self.critic(obs).squeeze(-1)


def fixed_init(agent):
    with torch.no_grad():
        for i, (name, p) in enumerate(agent.named_parameters()):
            if name == "log_std":
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + i)
            p.copy_(values.view_as(p) * (0.5 if p.dim() > 1 else 0.1))


def collect(agent, envs, steps, deterministic, episode):
    obs_buf, act_buf, logp_buf, rew_buf, done_buf, val_buf = [], [], [], [], [], []
    states = [env.reset() for env in envs]
    for t in range(steps):
        obs = torch.as_tensor(np.stack(states), dtype=torch.float32)
        with torch.no_grad():
            dist, base = agent.dist(obs)
            if deterministic:
                phase = torch.arange(len(envs), dtype=torch.float32) * 1.3 + t * 0.7 + episode
                noise = torch.sin(phase).unsqueeze(-1)
                action = torch.tanh(base.mean + base.stddev * noise)
            else:
                action = dist.rsample()
            logp = dist.log_prob(action)
            value = agent.value(obs)
        results = [env.step(a) for env, a in zip(envs, action.squeeze(-1).tolist())]
        states = [s for s, _, _ in results]
        obs_buf.append(obs)
        act_buf.append(action)
        logp_buf.append(logp)
        val_buf.append(value)
        rew_buf.append(torch.as_tensor(np.array([r for _, r, _ in results]), dtype=torch.float32))
        done_buf.append(torch.tensor([d for _, _, d in results], dtype=torch.float32))
    with torch.no_grad():
        last_value = agent.value(torch.as_tensor(np.stack(states), dtype=torch.float32))
    return [torch.stack(b) for b in (obs_buf, act_buf, logp_buf, rew_buf, done_buf, val_buf)], (
        last_value
    )


def gae(rewards, dones, values, last_value, gamma=0.95, lam=0.9):
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(last_value)
    for t in reversed(range(rewards.shape[0])):
        next_value = last_value if t == rewards.shape[0] - 1 else values[t + 1]
        nonterminal = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * nonterminal - values[t]
        last = delta + gamma * lam * nonterminal * last
        advantages[t] = last
    return advantages, advantages + values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    generator = torch.Generator().manual_seed(5)
    envs = [PointMass([1.0 - 0.4 * i, 0.1 * (i - 2)]) for i in range(4)]
    agent = Agent()
    if args.deterministic:
        fixed_init(agent)
    optimizer = torch.optim.Adam(agent.parameters(), lr=3e-3, eps=1e-5)
    schedule = torch.optim.lr_scheduler.LinearLR(optimizer, 1.0, 0.2, total_iters=3)
    clip, losses, kls, returns_seen = 0.2, [], [], []
    for episode in range(3):
        (obs, actions, old_logp, rewards, dones, values), last_value = collect(
            agent, envs, 12, args.deterministic, episode
        )
        advantages, returns = gae(rewards, dones, values, last_value)
        returns_seen.append(round(rewards.sum(0).mean().item(), 4))
        n = obs.shape[0] * obs.shape[1]
        flat = [
            x.reshape(n, *x.shape[2:])
            for x in (obs, actions, old_logp, advantages, returns, values)
        ]
        for _epoch in range(2):
            order = (
                torch.arange(n) if args.deterministic else torch.randperm(n, generator=generator)
            )
            for idx in order.split(16):
                b_obs, b_act, b_logp, b_adv, b_ret, b_val = (x[idx] for x in flat)
                dist, base = agent.dist(b_obs)
                logp = dist.log_prob(b_act)
                ratio = (logp - b_logp).exp()
                b_adv = (b_adv - b_adv.mean()) / (b_adv.std() + 1e-8)
                surrogate = torch.min(ratio * b_adv, torch.clamp(ratio, 1 - clip, 1 + clip) * b_adv)
                value = agent.value(b_obs)
                clipped = b_val + torch.clamp(value - b_val, -clip, clip)
                v_loss = 0.5 * torch.max((value - b_ret) ** 2, (clipped - b_ret) ** 2).mean()
                entropy = base.entropy().mean()
                loss = -surrogate.mean() + 0.5 * v_loss - 0.01 * entropy
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), 0.5)
                optimizer.step()
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - (logp - b_logp)).mean()
                losses.append(round(loss.item(), 5))
            kls.append(round(approx_kl.item(), 6))
            if approx_kl > 0.05:
                break
        schedule.step()

    with torch.no_grad():
        probe = torch.as_tensor(np.array([[0.5, -0.2], [-0.3, 0.4]]), dtype=torch.float32)
        dist, base = agent.dist(probe)
        pre_tanh = torch.tensor([[0.3], [-1.1]])
        action = torch.tanh(pre_tanh)
        by_hand = base.log_prob(pre_tanh) - (
            2 * (math.log(2) - pre_tanh - F.softplus(-2 * pre_tanh))
        ).sum(-1)
        logp = dist.log_prob(action)
    torch.save({"agent": agent.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = Agent()
    restored.load_state_dict(state["agent"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "approx_kl": kls,
                "episode_returns": returns_seen,
                "log_std": round(agent.log_std.item(), 5),
                "logp_matches_by_hand": bool(torch.allclose(logp, by_hand, atol=1e-4)),
                "logp": [round(v, 4) for v in logp.tolist()],
                "event_shape": [list(dist.event_shape), list(dist.batch_shape)],
                "support": [type(dist.support).__name__, dist.support.event_dim],
                "lr": round(schedule.get_last_lr()[0], 6),
                "restored_value": round(restored.value(probe)[0].item(), 5),
                "optimizer_steps": state["optimizer"]["state"][0]["step"].item(),
            }
        )
    )


if __name__ == "__main__":
    main()
