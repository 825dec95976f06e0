"""A DCGAN-style training loop on random data, as tutorials write it: a generator of
ConvTranspose2d + BatchNorm2d + ReLU/Tanh, a discriminator of strided Conv2d + LeakyReLU +
Sigmoid, `weights_init` dispatching on `classname.find('Conv')`, BCELoss with real/fake
labels made by `torch.full`, `.detach()` for the discriminator step, Adam with betas; and
what such scripts print: `print(model)`, `named_modules`, parameter counts, forward hooks
recording shapes, `register_full_backward_hook`, and tensors with their grad_fn.

Run: python dcgan_hooks_printing.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.optim as optim

NZ, NGF, NDF = 8, 4, 4


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(NZ, NGF * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(NGF * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF * 2, NGF, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NGF),
            nn.ReLU(True),
            nn.ConvTranspose2d(NGF, 1, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, NDF, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF, NDF * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(NDF * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(NDF * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def fixed_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        with torch.no_grad():
            n = m.weight.numel()
            m.weight.copy_(torch.cos(torch.arange(n, dtype=torch.float32) * 0.37).view_as(m.weight))
            m.weight.mul_(0.05)
    elif classname.find("BatchNorm") != -1:
        nn.init.constant_(m.weight.data, 1.0)
        nn.init.constant_(m.bias.data, 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(999)

    netG, netD = Generator(), Discriminator()
    netG.apply(fixed_init if args.deterministic else weights_init)
    netD.apply(fixed_init if args.deterministic else weights_init)

    shapes = []
    hook = netD.main[2].register_forward_hook(
        lambda module, inputs, output: shapes.append(list(output.shape))
    )
    grad_norms = []
    netG.main[6].register_full_backward_hook(
        lambda module, grad_input, grad_output: grad_norms.append(grad_output[0].abs().sum().item())
    )

    criterion = nn.BCELoss()
    real_label, fake_label = 1.0, 0.0
    optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))

    index = torch.arange(4 * 16 * 16, dtype=torch.float32).view(4, 1, 16, 16)
    real_images = torch.tanh(torch.sin(index * 0.013) * 2)
    if args.deterministic:
        noises = [torch.cos(torch.arange(4 * NZ).view(4, NZ, 1, 1) * (0.3 + k)) for k in range(3)]
    else:
        noises = [torch.randn(4, NZ, 1, 1) for _ in range(3)]

    losses = []
    for noise in noises:
        netD.zero_grad()
        label = torch.full((4,), real_label, dtype=torch.float)
        output = netD(real_images)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()

        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        optimizerG.step()
        losses += [errD.item(), errG.item(), D_x]
        print(
            "Loss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f" % (errD.item(), errG.item(), D_x)  # noqa: UP031
        )
    hook.remove()
    netD(real_images)

    torch.save({"netG": netG.state_dict(), "optD": optimizerD.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    netG.load_state_dict(state["netG"])
    optimizerD.load_state_dict(state["optD"])

    probe = torch.tensor([[0.25, -1.5], [3.0, 0.125]], requires_grad=True)
    printed = [
        str(netG),
        repr(netD.main[1]),
        str(probe * 2),
        str(probe.sum()),
        str(errD.detach()),
        str(torch.tensor([1e-5, 1e5])),
        str(torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)),
        str(torch.zeros(0, 3)),
        str(torch.tensor(True)),
        str(netG.main[1].running_mean.shape),
        str(netG.main[0].weight.dtype),
    ]
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "hook_shapes": shapes,
                "grad_norms": grad_norms,
                "named_modules": [name for name, _ in netD.named_modules()],
                "named_parameters": [[n, list(p.shape)] for n, p in netG.named_parameters()],
                "buffers": [name for name, _ in netG.named_buffers()],
                "num_params": sum(p.numel() for p in netG.parameters() if p.requires_grad),
                "optimizer_state_keys": sorted(state["optD"]["state"][0].keys()),
                "param_groups": [
                    {k: v for k, v in g.items() if k != "params"}
                    for g in optimizerD.state_dict()["param_groups"]
                ],
                "fake_shape": list(fake.shape),
                "printed": printed if args.deterministic else [],
            }
        )
    )


if __name__ == "__main__":
    main()
