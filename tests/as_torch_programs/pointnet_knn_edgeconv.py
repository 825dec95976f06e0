"""A point-cloud classifier as PointNet / DGCNN repositories write it: a T-Net predicting a
3x3 transform applied with `torch.einsum` and kept near orthogonal by a Frobenius regulariser
(`torch.bmm` against `torch.eye`), a shared MLP as `Conv1d(kernel_size=1)` with
`BatchNorm1d` and `InstanceNorm1d`, global features by `max(dim=2)` with the critical point
indices, k-nearest neighbours from `torch.cdist` + `topk(largest=False)`, neighbour features
by batched `gather` / `take_along_dim` with `expand`, an EdgeConv over `torch.cat` of
differences, `MaxPool1d` / `AdaptiveAvgPool1d`, normals from `torch.cross`, `aminmax`,
`count_nonzero`, `torch.chunk`, label-smoothed cross entropy plus `SmoothL1Loss`, and
`StepLR`.

Run: python pointnet_knn_edgeconv.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

CLOUDS, POINTS, K, CLASSES = 6, 16, 4, 3


def make_clouds():
    """Class 0 a ring, 1 a helix, 2 a saddle; each cloud rotated a little about z."""
    t = torch.linspace(0, 6.2, POINTS)
    clouds, labels = [], []
    for i in range(CLOUDS):
        label = i % CLASSES
        if label == 0:
            xyz = torch.stack([torch.cos(t), torch.sin(t), 0.1 * torch.sin(3 * t)], 0)
        elif label == 1:
            xyz = torch.stack([torch.cos(t), torch.sin(t), t / 6.2 - 0.5], 0)
        else:
            u = torch.cos(1.7 * t)
            xyz = torch.stack([u, torch.sin(t), u * u - torch.sin(t) ** 2], 0)
        angle = torch.tensor(0.3 * i)
        c, s = torch.cos(angle), torch.sin(angle)
        zero, one = torch.zeros(()), torch.ones(())
        rotation = torch.stack(
            [torch.stack([c, -s, zero]), torch.stack([s, c, zero]), torch.stack([zero, zero, one])]
        )
        clouds.append(rotation @ xyz)
        labels.append(label)
    return torch.stack(clouds), torch.tensor(labels)


def knn(points, k):
    """(B, N, k) indices of each point's nearest neighbours, itself first."""
    dist = torch.cdist(points, points)
    return dist.topk(k, dim=-1, largest=False).indices


def neighbour_features(features, index):
    """features (B, C, N), index (B, N, k) -> (B, C, N, k) by a batched gather."""
    batch, channels, n = features.shape
    flat = index.reshape(batch, 1, n * index.size(-1)).expand(batch, channels, -1)
    return features.gather(2, flat).view(batch, channels, n, -1)


class TNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(3, 16, kernel_size=1)
        self.fc = nn.Linear(16, 9)

    def forward(self, x):
        features = F.relu(self.conv(x)).max(dim=2).values
        return self.fc(features).view(-1, 3, 3) + torch.eye(3)


class PointNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.tnet = TNet()
        self.mlp = nn.Sequential(
            nn.Conv1d(3, 16, 1, bias=False), nn.BatchNorm1d(16), nn.LeakyReLU(0.2)
        )
        self.edge = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.LeakyReLU(0.2))
        self.norm = nn.InstanceNorm1d(16, affine=True)
        self.pool = nn.MaxPool1d(2)
        self.avg = nn.AdaptiveAvgPool1d(1)
        self.head = nn.Linear(32, CLASSES)
        self.offset = nn.Linear(32, 3)

    def forward(self, x):
        transform = self.tnet(x)
        x = torch.einsum("bij,bjn->bin", transform, x)
        features = self.mlp(x)
        index = knn(x.transpose(1, 2), K)
        neighbours = neighbour_features(features, index)
        centre = features.unsqueeze(-1).expand_as(neighbours)
        edge = self.edge(torch.cat([neighbours - centre, centre], dim=1)).max(dim=-1).values
        edge = self.norm(edge)
        global_max, critical = edge.max(dim=2)
        pooled = self.avg(self.pool(edge)).squeeze(-1)
        joint = torch.cat([global_max, pooled], dim=1)
        return self.head(joint), self.offset(joint), transform, critical


def orthogonality(transform):
    eye = torch.eye(3).expand_as(transform)
    return torch.linalg.matrix_norm(torch.bmm(transform, transform.transpose(1, 2)) - eye).mean()


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
            p.copy_(0.3 * values.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    clouds, labels = make_clouds()
    centroids = clouds.mean(dim=2)
    model = PointNet()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
    smooth = nn.SmoothL1Loss(beta=0.5)
    losses = []
    for _ in range(8):
        logits, offset, transform, critical = model(clouds)
        loss = F.cross_entropy(logits, labels, label_smoothing=0.1)
        loss = loss + smooth(offset, centroids) + 0.01 * orthogonality(transform)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        logits, offset, transform, critical = model(clouds)
        index = knn(clouds.transpose(1, 2), K)
        neighbours = torch.take_along_dim(
            clouds.transpose(1, 2)[:, :, None, :], index[..., None], dim=1
        )
        first, second = torch.chunk(
            neighbours[:, :, 1:3, :] - clouds.transpose(1, 2)[:, :, None], 2, dim=2
        )
        normals = F.normalize(torch.cross(first.squeeze(2), second.squeeze(2), dim=-1), dim=-1)
        low, high = torch.aminmax(transform)
    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "predicted": logits.argmax(1).tolist(),
                "critical": critical[0, :6].tolist() if args.deterministic else None,
                "knn": index[0, :3].tolist(),
                "normal_z": round(normals[..., 2].abs().mean().item(), 4),
                "transform_range": [round(low.item(), 4), round(high.item(), 4)],
                "orthogonality": round(orthogonality(transform).item(), 4),
                "positive_offsets": int(torch.count_nonzero(offset > 0)),
                "running_var": round(model.mlp[1].running_var.sum().item(), 4),
                "lr": scheduler.get_last_lr(),
            }
        )
    )


if __name__ == "__main__":
    main()
