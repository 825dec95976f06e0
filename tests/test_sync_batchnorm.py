"""SyncBatchNorm in one process is BatchNorm, as PyTorch's: the same outputs, gradients and
running statistics; convert_sync_batchnorm swaps every BatchNorm of a model for one sharing its
parameters and buffers. (Across processes: tests/test_distributed_mpi.py.)"""

import numpy as np
import pytest
import torch

import chainrule
import chainrule.distributed as dist
from chainrule import nn


@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 4), (2, 3, 2, 2, 2)])
@pytest.mark.parametrize("in_a_group", [False, True])
def test_sync_batchnorm_of_one_process_is_torchs(shape, in_a_group):
    if in_a_group:
        dist.init_process_group("single")
    try:
        ours, theirs = nn.SyncBatchNorm(3, momentum=None), torch.nn.SyncBatchNorm(3, momentum=None)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        ours_x = chainrule.tensor(x, requires_grad=True)
        theirs_x = torch.tensor(x, requires_grad=True)
        for _ in range(2):
            out, tout = ours(ours_x), theirs(theirs_x)
            np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5)
        (out * out).sum().backward()
        (tout * tout).sum().backward()
        np.testing.assert_allclose(ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-4, atol=1e-5)
        for key, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5)
    finally:
        if in_a_group:
            dist.destroy_process_group()


def test_convert_sync_batchnorm_shares_parameters_and_buffers():
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()))
    model.eval()
    norm = model[1][0]
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model, process_group="group")
    synced = converted[1][0]
    assert type(synced) is nn.SyncBatchNorm and synced.process_group == "group"
    assert synced.weight is norm.weight and synced.running_mean is norm.running_mean
    assert not synced.training
    reference = torch.nn.SyncBatchNorm.convert_sync_batchnorm(
        torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.Sequential(torch.nn.BatchNorm2d(4)))
    )
    assert [k for k in converted.state_dict()] == [k for k in reference.state_dict()]
    bare = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(2, affine=False))
    assert type(bare) is nn.SyncBatchNorm and bare.weight is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda lib: lib.nn.SyncBatchNorm(3)(lib.ones(3)), "expected at least 2D input"),
        (lambda lib: lib.nn.SyncBatchNorm(0)(lib.ones(2, 0)), "channels should be non-zero"),
    ],
)
def test_sync_batchnorm_refuses_what_torch_refuses(make, message):
    with pytest.raises(ValueError, match=message):
        make(torch)
    with pytest.raises(ValueError, match=message):
        make(chainrule)
