"""A DQN on a tiny grid-world, as RL tutorials write it: a `namedtuple` Transition and a
`deque` replay memory, an epsilon-greedy policy from `max(1)[1].view(1, 1)`, batches built
with `torch.cat` / `torch.stack` / `zip(*...)`, a non-final mask from `map(lambda ...)` as a
`torch.tensor(..., dtype=torch.bool)`, Q(s, a) by `gather(1, actions)`, target values by
`target_net(s').max(1).values` under `torch.no_grad()`, Double-DQN's argmax variant,
`F.smooth_l1_loss` / `nn.HuberLoss(delta=...)`, `clip_grad_value_`, RMSprop and AdamW
with `amsgrad`, soft target updates through `state_dict()` dict arithmetic and
`load_state_dict`, and hard copies by `copy.deepcopy`.

Run: python dqn_replay_buffer.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import copy
import json
import random
from collections import deque, namedtuple

import torch
import torch.nn as nn
import torch.nn.functional as F

Transition = namedtuple("Transition", ("state", "action", "next_state", "reward"))
SIZE = 5  # a corridor of 5 cells; reward at the right end


class Corridor:
    def reset(self):
        self.pos = 0
        return self.observe()

    def observe(self):
        return F.one_hot(torch.tensor(self.pos), SIZE).float()

    def step(self, action):
        self.pos = max(0, min(SIZE - 1, self.pos + (1 if action == 1 else -1)))
        done = self.pos == SIZE - 1
        return self.observe(), (1.0 if done else -0.05), done


class ReplayMemory:
    def __init__(self, capacity):
        self.memory = deque([], maxlen=capacity)

    def push(self, *args):
        self.memory.append(Transition(*args))

    def sample(self, batch_size, rng):
        return rng.sample(self.memory, batch_size)

    def __len__(self):
        return len(self.memory)


class DQN(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(SIZE, 16)
        self.layer2 = nn.Linear(16, 16)
        self.layer3 = nn.Linear(16, 2)

    def forward(self, x):
        x = F.relu(self.layer1(x))
        x = F.relu(self.layer2(x))
        return self.layer3(x)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.3 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + i).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)
    rng = random.Random(0)  # Python's generator: the same stream under both libraries

    policy_net = DQN()
    if args.deterministic:
        fixed_init(policy_net)
    target_net = DQN()
    target_net.load_state_dict(policy_net.state_dict())
    optimizer = torch.optim.AdamW(policy_net.parameters(), lr=1e-2, amsgrad=True)
    memory = ReplayMemory(200)
    env = Corridor()
    gamma, tau = 0.9, 0.1

    def select_action(state, eps):
        if rng.random() > eps:
            with torch.no_grad():
                return policy_net(state).max(1)[1].view(1, 1)
        return torch.tensor([[rng.randrange(2)]], dtype=torch.long)

    def optimize(batch_size=16, double=False):
        if len(memory) < batch_size:
            return None
        batch = Transition(*zip(*memory.sample(batch_size, rng)))
        non_final_mask = torch.tensor(
            tuple(map(lambda s: s is not None, batch.next_state)), dtype=torch.bool
        )
        non_final_next = torch.cat([s for s in batch.next_state if s is not None])
        state_batch = torch.cat(batch.state)
        action_batch = torch.cat(batch.action)
        reward_batch = torch.cat(batch.reward)
        q = policy_net(state_batch).gather(1, action_batch)
        next_values = torch.zeros(batch_size)
        with torch.no_grad():
            if double:
                best = policy_net(non_final_next).argmax(dim=1, keepdim=True)
                next_values[non_final_mask] = target_net(non_final_next).gather(1, best).squeeze(1)
            else:
                next_values[non_final_mask] = target_net(non_final_next).max(1).values
        expected = reward_batch + gamma * next_values
        if double:
            loss = nn.HuberLoss(delta=0.5)(q, expected.unsqueeze(1))
        else:
            loss = F.smooth_l1_loss(q, expected.unsqueeze(1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_value_(policy_net.parameters(), 100)
        optimizer.step()
        return loss.item()

    losses, episode_lengths = [], []
    for episode in range(12):
        state = env.reset().unsqueeze(0)
        eps = max(0.05, 0.9 * 0.8**episode)
        for t in range(20):
            action = select_action(state, eps)
            observation, reward, done = env.step(action.item())
            reward = torch.tensor([reward])
            next_state = None if done else observation.unsqueeze(0)
            memory.push(state, action, next_state, reward)
            length = t + 1
            state = next_state
            loss = optimize(double=episode % 2 == 1)
            if loss is not None:
                losses.append(loss)
            target_state = target_net.state_dict()
            policy_state = policy_net.state_dict()
            for key in policy_state:
                target_state[key] = policy_state[key] * tau + target_state[key] * (1 - tau)
            target_net.load_state_dict(target_state)
            if done:
                break
        episode_lengths.append(length)

    frozen = copy.deepcopy(policy_net)
    frozen.requires_grad_(False)
    rms = torch.optim.RMSprop(policy_net.parameters(), lr=1e-3, alpha=0.9, centered=True)
    states = torch.eye(SIZE)
    for _ in range(5):
        q_all = policy_net(states)
        loss = F.mse_loss(q_all, frozen(states) + 0.1)
        rms.zero_grad()
        loss.backward()
        rms.step()
        losses.append(loss.item())

    with torch.no_grad():
        q_all = policy_net(states)
        best = q_all.max(dim=1)
    torch.save(
        {"policy": policy_net.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint
    )
    state = torch.load(args.checkpoint, weights_only=True)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "episode_lengths": episode_lengths,
                "greedy_actions": best.indices.tolist(),
                "values": best.values.tolist(),
                "max_type": type(best).__name__,
                "max_repr": repr(best).splitlines()[0],
                "amsgrad_state": sorted(state["optimizer"]["state"][0].keys()),
                "memory": len(memory),
                "frozen": [p.requires_grad for p in frozen.parameters()][:1],
            }
        )
    )


if __name__ == "__main__":
    main()
