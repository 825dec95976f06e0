"""A VQ-VAE as the reference implementations (Sonnet's, and the PyTorch ports of it) write it:
a strided Conv2d encoder and ConvTranspose2d decoder, latents moved to channels-last with
`permute(0, 2, 3, 1).contiguous()` and flattened, squared distances to the codebook as
`sum(x**2, keepdim) + sum(w**2) - 2 * matmul(x, w.t())` (checked against `torch.cdist`),
`argmin` codes, one-hot encodings by `scatter_(1, idx, 1)`, the straight-through estimator
`x + (q - x).detach()`, a commitment loss on `q.detach()`, the perplexity of the code usage,
the codebook updated by an exponential moving average kept in buffers (`mul_().add_(alpha=)`,
Laplace smoothing of the cluster sizes, `weight.data.copy_`), dead codes restarted from
encoder outputs under `torch.no_grad()`, a second quantiser with a learned codebook and
`F.gumbel_softmax(hard=True)` relaxation (in the random run), and `F.mse_loss` reconstruction.

Run: python vqvae_ema_codebook.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings, dim, commitment_cost=0.25, decay=0.9, epsilon=1e-5):
        super().__init__()
        self.num_embeddings, self.dim = num_embeddings, dim
        self.commitment_cost, self.decay, self.epsilon = commitment_cost, decay, epsilon
        self.embedding = nn.Embedding(num_embeddings, dim)
        self.embedding.weight.data.normal_()
        self.register_buffer("ema_cluster_size", torch.zeros(num_embeddings))
        self.register_buffer("ema_w", self.embedding.weight.data.clone())

    def distances(self, flat):
        w = self.embedding.weight
        return (
            torch.sum(flat**2, dim=1, keepdim=True)
            + torch.sum(w**2, dim=1)
            - 2 * torch.matmul(flat, w.t())
        )

    def forward(self, inputs):
        x = inputs.permute(0, 2, 3, 1).contiguous()
        shape = x.shape
        flat = x.view(-1, self.dim)
        indices = torch.argmin(self.distances(flat), dim=1).unsqueeze(1)
        encodings = torch.zeros(indices.shape[0], self.num_embeddings, device=inputs.device)
        encodings.scatter_(1, indices, 1)
        quantized = torch.matmul(encodings, self.embedding.weight).view(shape)
        if self.training:
            with torch.no_grad():
                self.ema_cluster_size.mul_(self.decay).add_(encodings.sum(0), alpha=1 - self.decay)
                n = torch.sum(self.ema_cluster_size)
                self.ema_cluster_size.copy_(
                    (self.ema_cluster_size + self.epsilon)
                    / (n + self.num_embeddings * self.epsilon)
                    * n
                )
                dw = torch.matmul(encodings.t(), flat)
                self.ema_w.mul_(self.decay).add_(dw, alpha=1 - self.decay)
                self.embedding.weight.data.copy_(self.ema_w / self.ema_cluster_size.unsqueeze(1))
        e_latent_loss = F.mse_loss(quantized.detach(), x)
        loss = self.commitment_cost * e_latent_loss
        quantized = x + (quantized - x).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, indices.view(-1)

    @torch.no_grad()
    def restart_dead_codes(self, flat, threshold=0.05):
        dead = self.ema_cluster_size < threshold
        count = int(dead.sum())
        if count:
            picks = flat[:count].detach()
            self.embedding.weight.data[dead] = picks
            self.ema_w[dead] = picks
            self.ema_cluster_size[dead] = 1.0
        return count


class GumbelQuantizer(nn.Module):
    """A learned codebook chosen by a (hard) Gumbel-softmax over logits, as DALL-E's dVAE."""

    def __init__(self, dim, num_embeddings):
        super().__init__()
        self.proj = nn.Conv2d(dim, num_embeddings, 1)
        self.embed = nn.Embedding(num_embeddings, dim)

    def forward(self, z, tau, stochastic):
        logits = self.proj(z)
        if stochastic:
            soft = F.gumbel_softmax(logits, tau=tau, hard=True, dim=1)
        else:
            soft = F.softmax(logits / tau, dim=1)
        quantized = torch.einsum("bnhw,nd->bdhw", soft, self.embed.weight)
        q = F.softmax(logits, dim=1)
        kl = torch.sum(q * torch.log(q * logits.shape[1] + 1e-10), dim=1).mean()
        return quantized, kl


class VQVAE(nn.Module):
    def __init__(self, dim=4, codes=8):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 4, stride=2, padding=1), nn.ReLU(), nn.Conv2d(8, dim, 3, padding=1)
        )
        self.vq = VectorQuantizerEMA(codes, dim)
        self.gumbel = GumbelQuantizer(dim, codes)
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(dim, 8, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 1, 3, padding=1),
        )

    def forward(self, x, tau=1.0, stochastic=False):
        z = self.encoder(x)
        vq_loss, quantized, perplexity, codes = self.vq(z)
        soft, kl = self.gumbel(z, tau, stochastic)
        recon = self.decoder(quantized + 0.1 * soft)
        return recon, vq_loss + 1e-3 * kl, perplexity, codes, z


def fixed_init(model):
    with torch.no_grad():
        for i, (_name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.67 + i)
            p.copy_(values.view_as(p) / math.sqrt(p[0].numel() if p.dim() > 1 else 4))
        model.vq.ema_w.copy_(model.vq.embedding.weight)


def make_images(count=16):
    rows = torch.arange(8, dtype=torch.float32).view(8, 1)
    cols = torch.arange(8, dtype=torch.float32).view(1, 8)
    images = [
        torch.sin(rows * (0.3 + 0.1 * (i % 4)) + cols * (0.2 * (i % 3)) + i) for i in range(count)
    ]
    return torch.stack(images).unsqueeze(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(8)
    images = make_images()
    model = VQVAE()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    losses, perplexities, restarted = [], [], []
    for step in range(8):
        model.train()
        batch = images[(step % 2) * 8 : (step % 2) * 8 + 8]
        tau = max(0.5, math.exp(-0.1 * step))
        recon, aux_loss, perplexity, _, z = model(batch, tau, stochastic=not args.deterministic)
        loss = F.mse_loss(recon, batch) + aux_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 3 == 2:
            flat = z.detach().permute(0, 2, 3, 1).reshape(-1, 4)
            restarted.append(model.vq.restart_dead_codes(flat))
        losses.append(round(loss.item(), 5))
        perplexities.append(round(perplexity.item(), 4))

    model.eval()
    with torch.no_grad():
        recon, _, perplexity, codes, z = model(images)
        flat = z.permute(0, 2, 3, 1).reshape(-1, 4)
        by_cdist = torch.cdist(flat, model.vq.embedding.weight).argmin(dim=1)
        usage = torch.bincount(codes, minlength=8)
        psnr = 10 * torch.log10(1 / F.mse_loss(recon, images))
    torch.save({"model": model.state_dict(), "step": 8}, args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = VQVAE()
    restored.load_state_dict(state["model"])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "perplexity": perplexities,
                "restarted": restarted,
                "codes_match_cdist": bool(torch.equal(codes, by_cdist)),
                "usage": usage.tolist(),
                "cluster_size": [round(v, 4) for v in model.vq.ema_cluster_size[:4].tolist()],
                "psnr": round(psnr.item(), 4),
                "codebook": [round(v, 4) for v in restored.vq.embedding.weight[0].tolist()],
                "buffers": sorted(k for k in state["model"] if k.startswith("vq.ema")),
                "code_dtype": str(codes.dtype),
            }
        )
    )


if __name__ == "__main__":
    main()
