"""chainrule.optim.lr_scheduler against torch.optim.lr_scheduler: the same lr sequences."""

import math
import warnings

import pytest
import torch

import chainrule
from chainrule import optim
from chainrule.optim import lr_scheduler

STEPS = 30


def optimizers(name="SGD", groups=2, **kwargs):
    """The same optimizer in both libraries, with `groups` param groups of different lrs."""
    ours = [chainrule.zeros(2, requires_grad=True) for _ in range(groups)]
    theirs = [torch.zeros(2, requires_grad=True) for _ in range(groups)]
    lrs = [0.1 * (i + 1) for i in range(groups)]
    opt = getattr(optim, name)([{"params": [p], "lr": lr} for p, lr in zip(ours, lrs)], **kwargs)
    topt = getattr(torch.optim, name)(
        [{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)], **kwargs
    )
    return opt, topt


def lr_sequences(make, name="SGD", steps=STEPS, **kwargs):
    """The lrs (and momenta) after construction and after each of `steps` steps, both libs."""
    opt, topt = optimizers(name, **kwargs)
    sched = make(lr_scheduler, opt)
    tsched = make(torch.optim.lr_scheduler, topt)
    ours, theirs = [], []
    for step in range(steps + 1):
        ours.append((sched.get_last_lr(), [_momentum(g) for g in opt.param_groups]))
        theirs.append((tsched.get_last_lr(), [_momentum(g) for g in topt.param_groups]))
        if step < steps:
            opt.step()
            topt.step()
            sched.step()
            tsched.step()
    return ours, theirs, opt, topt


def _momentum(group):
    return group["betas"][0] if "betas" in group else group.get("momentum")


def assert_same_sequences(ours, theirs):
    assert len(ours) == len(theirs)
    for step, ((lrs, moms), (tlrs, tmoms)) in enumerate(zip(ours, theirs)):
        assert lrs == pytest.approx(tlrs, rel=1e-12, abs=1e-15), f"lr at step {step}"
        assert moms == pytest.approx(tmoms, rel=1e-12), f"momentum at step {step}"


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[3, 8, 8, 20], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    "CosineAnnealingLR_short": lambda m, o: m.CosineAnnealingLR(o, T_max=4),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lr_lambda=lambda epoch: 1 / (1 + epoch)),
    "LambdaLR_per_group": lambda m, o: m.LambdaLR(
        o, lr_lambda=[lambda e: 0.9**e, lambda e: 1 + e % 3]
    ),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lr_lambda=lambda e: 0.95),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=12),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=5, T_mult=2, eta_min=0.01
    ),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o,
        schedulers=[m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, 20)],
        milestones=[5],
    ),
    "SequentialLR_three": lambda m, o: m.SequentialLR(
        o,
        schedulers=[
            m.ConstantLR(o, factor=0.2, total_iters=3),
            m.ExponentialLR(o, gamma=0.8),
            m.StepLR(o, step_size=4, gamma=0.5),
        ],
        milestones=[4, 12],
    ),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=6), m.ExponentialLR(o, gamma=0.9)]
    ),
    "OneCycleLR_cos": lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR_linear_three_phase": lambda m, o: m.OneCycleLR(
        o,
        max_lr=[0.5, 2.0],
        epochs=5,
        steps_per_epoch=6,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
        div_factor=10.0,
        final_div_factor=100.0,
    ),
    "OneCycleLR_no_momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS + 5, cycle_momentum=False
    ),
    "CyclicLR_triangular": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4),
    "CyclicLR_triangular2_uneven": lambda m, o: m.CyclicLR(
        o,
        base_lr=[0.01, 0.02],
        max_lr=[0.1, 0.5],
        step_size_up=2,
        step_size_down=5,
        mode="triangular2",
        base_momentum=[0.7, 0.75],
        max_momentum=0.95,
    ),
    "CyclicLR_exp_range": lambda m, o: m.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=3, mode="exp_range", gamma=0.9
    ),
    "CyclicLR_scale_fn_iterations": lambda m, o: m.CyclicLR(
        o,
        base_lr=0.01,
        max_lr=0.1,
        step_size_up=3,
        scale_fn=lambda x: 1 / (1 + x),
        scale_mode="iterations",
        cycle_momentum=False,
    ),
}


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_lr_sequence_matches_torch(key):
    ours, theirs, _, _ = lr_sequences(SCHEDULES[key], momentum=0.9)
    assert_same_sequences(ours, theirs)


@pytest.mark.parametrize(
    "key", ["StepLR", "CosineAnnealingLR", "OneCycleLR_cos", "CyclicLR_triangular"]
)
def test_a_tensor_lr_is_filled_in_place_and_read_back_as_tensors(key):
    """With lr=torch.tensor(...) PyTorch's schedulers fill the group's tensor (float32, so the
    schedule's values round to float32), and get_last_lr(), initial_lr and base_lrs are
    clones of it (OneCycleLR's initial_lr is its own number, in both)."""
    ours_param, theirs_param = chainrule.zeros(2, requires_grad=True), torch.zeros(2)
    lr, tlr = chainrule.tensor(0.1), torch.tensor(0.1)
    opt = optim.SGD([ours_param], lr=lr, momentum=0.9)
    topt = torch.optim.SGD([theirs_param.requires_grad_()], lr=tlr, momentum=0.9)
    sched = SCHEDULES[key](lr_scheduler, opt)
    tsched = SCHEDULES[key](torch.optim.lr_scheduler, topt)
    for _ in range(8):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert opt.param_groups[0]["lr"] is lr
        assert lr.item() == tlr.item()  # float32 both: bit for bit
        last, tlast = sched.get_last_lr()[0], tsched.get_last_lr()[0]
        assert isinstance(last, chainrule.Tensor) and last is not lr
        assert last.item() == tlast.item()
    initial, tinitial = opt.param_groups[0]["initial_lr"], topt.param_groups[0]["initial_lr"]
    assert isinstance(initial, chainrule.Tensor) == isinstance(tinitial, torch.Tensor)
    assert initial is not lr and float(initial) == float(tinitial)
    assert [float(v) for v in sched.base_lrs] == [float(v) for v in tsched.base_lrs]


def test_one_cycle_cycles_adam_beta1():
    make = SCHEDULES["OneCycleLR_cos"]
    ours, theirs, opt, _ = lr_sequences(make, name="Adam")
    assert_same_sequences(ours, theirs)
    assert opt.param_groups[0]["betas"][1] == 0.999


def test_cyclic_cycles_adam_beta1_and_resumes_from_its_state_dict():
    make = SCHEDULES["CyclicLR_triangular"]
    ours, theirs, opt, _ = lr_sequences(make, name="Adam", steps=7)
    assert_same_sequences(ours, theirs)
    sched = make(lr_scheduler, opt)
    state = sched.state_dict()
    assert state["_scale_fn_custom"] is None and state["mode"] == "triangular"
    again = lr_scheduler.CyclicLR(opt, base_lr=0.5, max_lr=0.6, step_size_up=1)
    again.load_state_dict(state)
    sched.step()
    again.step()
    assert again.get_last_lr() == sched.get_last_lr()


def test_one_cycle_refuses_to_step_past_total_steps():
    opt, _ = optimizers()
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(2):
        sched.step()
    sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_closed_form_with_explicit_epoch_matches_torch():
    opt, topt = optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(7)
    with pytest.warns(UserWarning):
        tsched.step(7)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())


METRICS = [1.0, 0.9, 0.95, 0.95, 0.95, 0.949, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7]
METRICS += [0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.01},
        {"patience": 1, "threshold_mode": "abs", "threshold": 0.02, "cooldown": 2},
        {"patience": 0, "factor": 0.5, "min_lr": [0.02, 0.05]},
        {"patience": 0, "factor": 0.5, "eps": 0.06},
    ],
    ids=str,
)
def test_reduce_lr_on_plateau_matches_torch(kwargs):
    opt, topt = optimizers()
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    for metric in METRICS:
        sched.step(chainrule.tensor(metric, dtype=chainrule.float64))  # a Tensor metric works
        tsched.step(metric)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
        assert sched.num_bad_epochs == tsched.num_bad_epochs
        assert sched.cooldown_counter == tsched.cooldown_counter
    assert sched.get_last_lr() != [0.1, 0.2]  # the sequence did reduce


def test_scheduler_state_dict_round_trip():
    opt, _ = optimizers()
    sched = lr_scheduler.SequentialLR(
        opt,
        [lr_scheduler.LinearLR(opt, 0.1, total_iters=4), lr_scheduler.CosineAnnealingLR(opt, 10)],
        milestones=[4],
    )
    for _ in range(6):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved and len(saved["_schedulers"]) == 2

    opt2, _ = optimizers()
    opt2.load_state_dict(opt.state_dict())
    sched2 = lr_scheduler.SequentialLR(
        opt2,
        [
            lr_scheduler.LinearLR(opt2, 0.1, total_iters=4),
            lr_scheduler.CosineAnnealingLR(opt2, 10),
        ],
        milestones=[4],
    )
    sched2.load_state_dict(saved)
    opt2.load_state_dict(opt.state_dict())
    for _ in range(8):
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


def test_lambda_state_dict_keeps_callable_objects_state():
    class Warmup:
        def __init__(self):
            self.scale = 1.0

        def __call__(self, epoch):
            return self.scale * min(1.0, (epoch + 1) / 5)

    opt, _ = optimizers(groups=1)
    fn = Warmup()
    sched = lr_scheduler.LambdaLR(opt, fn)
    fn.scale = 0.5
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"scale": 0.5}]
    other = Warmup()
    lr_scheduler.LambdaLR(opt, other).load_state_dict(saved)
    assert other.scale == 0.5
    plain = lr_scheduler.LambdaLR(opt, lambda e: 1.0).state_dict()
    assert plain["lr_lambdas"] == [None]


def test_initial_lr_is_recorded_and_required_when_resuming():
    opt, _ = optimizers(groups=1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    lr_scheduler.StepLR(opt, step_size=2)
    assert opt.param_groups[0]["initial_lr"] == 0.1


def test_scheduler_errors():
    opt, _ = optimizers(groups=1)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode bogus is unknown"):
        lr_scheduler.ReduceLROnPlateau(opt, mode="bogus")
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([chainrule.zeros(1, requires_grad=True)]), 1.0, 10)
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        lr_scheduler.SequentialLR(
            opt,
            [lr_scheduler.ReduceLROnPlateau(opt), lr_scheduler.StepLR(opt, 2)],
            milestones=[3],
        )


def test_cosine_annealing_reaches_eta_min_at_t_max():
    opt, _ = optimizers(groups=1)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=8, eta_min=0.01)
    for _ in range(8):
        sched.step()
    assert math.isclose(sched.get_last_lr()[0], 0.01, rel_tol=1e-9)


STATE_KEY_CASES = {
    "StepLR": lambda lib, opt: lib.StepLR(opt, step_size=2),
    "OneCycleLR": lambda lib, opt: lib.OneCycleLR(opt, max_lr=1.0, total_steps=10),
    "CosineAnnealingWarmRestarts": lambda lib, opt: lib.CosineAnnealingWarmRestarts(opt, T_0=2),
    "LambdaLR": lambda lib, opt: lib.LambdaLR(opt, lambda epoch: 0.9**epoch),
    "SequentialLR": lambda lib, opt: lib.SequentialLR(
        opt, [lib.ConstantLR(opt, 0.5, 2), lib.ExponentialLR(opt, 0.9)], milestones=[2]
    ),
}


@pytest.mark.parametrize("name", STATE_KEY_CASES)
def test_scheduler_state_dict_has_pytorchs_keys_in_pytorchs_order(name):
    """A printed or compared checkpoint shows the same entries: `_get_lr_called_within_step`
    included (PyTorch sets it while step computes), OneCycleLR's in its attribute order."""
    opt, topt = optimizers(momentum=0.9)
    sched = STATE_KEY_CASES[name](lr_scheduler, opt)
    tsched = STATE_KEY_CASES[name](torch.optim.lr_scheduler, topt)
    for _ in range(3):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()

    def keys(state):
        nested = [list(s) for s in state.get("_schedulers", [])]
        return list(state), nested

    assert keys(sched.state_dict()) == keys(tsched.state_dict())


def test_calling_get_lr_from_a_script_warns_as_pytorch_does_and_step_does_not():
    opt, topt = optimizers()
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`") as theirs:
        torch.optim.lr_scheduler.ExponentialLR(topt, gamma=0.5).get_lr()
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`") as ours:
        sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
        sched.get_lr()
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


ORDER_CASES = {
    "StepLR": lambda sch, o: sch.StepLR(o, 2),
    "OneCycleLR": lambda sch, o: sch.OneCycleLR(o, max_lr=1.0, total_steps=10),
    "CyclicLR": lambda sch, o: sch.CyclicLR(o, 0.01, 0.1),
    "CosineAnnealingWarmRestarts": lambda sch, o: sch.CosineAnnealingWarmRestarts(o, 3),
    "SequentialLR": lambda sch, o: sch.SequentialLR(
        o, [sch.LinearLR(o, 0.5, total_iters=2), sch.ExponentialLR(o, 0.9)], milestones=[1]
    ),
    "ChainedScheduler": lambda sch, o: sch.ChainedScheduler(
        [sch.ConstantLR(o, 0.5), sch.ExponentialLR(o, 0.9)]
    ),
}


def _order_warnings(lib, make, scheduler_first: bool, pre_step: bool = False) -> list[str]:
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1, momentum=0.9)
    if pre_step:
        opt.step()  # before the scheduler exists: it does not count
    scheduler = make(lib.optim.lr_scheduler, opt)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            if not scheduler_first:
                opt.step()
            scheduler.step()
            if scheduler_first:
                opt.step()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("make", ORDER_CASES.values(), ids=ORDER_CASES.keys())
def test_a_first_scheduler_step_before_the_optimizers_warns_as_pytorch(make):
    """PyTorch warns once ("Detected call of `lr_scheduler.step()` before `optimizer.step()`")
    when the first scheduler step comes before any optimizer step since the scheduler was made
    (the schedule's first value is skipped); chainrule did not warn."""
    for scheduler_first in (True, False):
        for pre_step in (False, True):
            ours = _order_warnings(chainrule, make, scheduler_first, pre_step)
            theirs = _order_warnings(torch, make, scheduler_first, pre_step)
            assert ours == theirs
    assert _order_warnings(chainrule, ORDER_CASES["StepLR"], True)[0].startswith(
        "Detected call of `lr_scheduler.step()` before `optimizer.step()`"
    )


def test_a_replaced_optimizer_step_is_reported_at_the_first_scheduler_step():
    messages = []
    for lib in (chainrule, torch):
        opt = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)
        scheduler = lib.optim.lr_scheduler.StepLR(opt, 1)
        opt.step = lambda *args, **kwargs: None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt.step()
            scheduler.step()
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and "has been overridden" in messages[0][0]


def test_a_param_group_added_after_the_scheduler_is_refused_at_its_step_as_pytorch():
    """PyTorch's scheduler writes one rate per group it knew (a strict zip): a group added
    since makes `step()` raise ValueError rather than leave that group's rate alone."""
    for lib in (torch, chainrule):
        first = lib.nn.Parameter(lib.ones(2))
        optimizer = lib.optim.SGD([first], lr=0.1)
        scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5**epoch)
        optimizer.add_param_group({"params": [lib.nn.Parameter(lib.ones(2))], "lr": 0.2})
        optimizer.step()
        with pytest.raises(ValueError, match="shorter than argument 1"):
            scheduler.step()
