"""L-BFGS: a quasi-Newton method that builds its curvature model from recent steps.

A port of PyTorch's `torch.optim.LBFGS` (itself after minFunc): the same two-loop recursion,
the same optional strong-Wolfe line search (cubic interpolation, zoom phase), the same stopping
rules and the same state, so a run follows PyTorch's iterates to float32 rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.backend import Array
from chainrule.ops.creation import as_tensor
from chainrule.optim.optimizer import (
    Optimizer,
    ParamsT,
    as_real,
    check_nonnegative,
    with_number_options,
)

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import ClosureResult


class LBFGS(Optimizer):
    """PyTorch's L-BFGS. `step(closure)` runs up to `max_iter` iterations; the closure must
    zero the gradients, compute the loss, call backward and return the loss.

    Only one parameter group is supported, as in PyTorch. Complex parameters enter the flat
    vector as their real and imaginary parts (view_as_real), as in PyTorch.

    Args:
        params (iterable): the tensors to optimise; one group only.
        lr (float): the step length (default 1), scaled on the first iteration by
            min(1, 1 / |g|_1) as in PyTorch; the line search starts from it.
        max_iter (int): the most iterations per `step` (default 20).
        max_eval (int, optional): the most closure evaluations per `step`
            (default max_iter * 5 // 4).
        tolerance_grad (float): stop when the largest gradient entry is at most this
            (default 1e-7).
        tolerance_change (float): stop when the step or the loss changes by at most this
            (default 1e-9).
        history_size (int): how many past updates approximate the inverse Hessian
            (default 100).
        line_search_fn (str, optional): None (fixed steps of `lr`) or 'strong_wolfe'.

    Example:
        >>> import chainrule
        >>> from chainrule import optim
        >>> x = chainrule.tensor([1.5, -0.5], dtype=chainrule.float64, requires_grad=True)
        >>> optimizer = optim.LBFGS([x], max_iter=100, line_search_fn="strong_wolfe")
        >>> def closure():
        ...     optimizer.zero_grad()
        ...     loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2   # Rosenbrock
        ...     loss.backward()
        ...     return loss
        >>> _ = optimizer.step(closure)
        >>> [round(v, 4) for v in x.tolist()]
        [1.0, 1.0]
    """

    complex_params = True
    sparse_gradients = True  # read as the dense gradients they stand for, as PyTorch

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_nonnegative(lr=lr)  # (another line_search_fn is refused at the line search)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]
        self._xp = self._params[0]._backend.xp

    # ---- the parameters as one flat vector -------------------------------------------------
    def _gather_flat_grad(self) -> Array:
        """Every gradient as one real vector (a complex one as its view_as_real, as PyTorch)."""
        xp = self._xp
        pieces = [
            as_real((p.grad.to_dense() if p.grad.is_sparse else p.grad)._array).reshape(-1)
            if p.grad is not None
            else xp.zeros(_real_numel(p), dtype=as_real(p._array).dtype)
            for p in self._params
        ]
        return xp.concatenate(pieces)

    def _add_grad(self, step_size: Any, update: Array) -> None:
        """p <- p + step_size * update, with `update` cut into each parameter's (real) shape."""
        offset = 0
        for p in self._params:
            param = as_real(p._array)
            numel = param.size
            param += step_size * update[offset : offset + numel].reshape(param.shape)
            self._written(p)
            offset += numel

    def _clone_params(self) -> list[Array]:
        return [p._array.copy() for p in self._params]

    def _set_params(self, arrays: list[Array]) -> None:
        for p, array in zip(self._params, arrays):
            p._array[...] = array
            self._written(p)

    def _directional_evaluate(
        self, closure: Callable[[], Any], x: list[Array], t: Any, d: Array
    ) -> tuple[float, Array]:
        """Loss and flat gradient at x + t * d; the parameters are put back to x after."""
        self._add_grad(t, d)
        with enable_grad():
            loss = closure()
        loss = float(loss)  # outside grad mode: PyTorch's float() of a graph's loss warns
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    # ---- the step --------------------------------------------------------------------------
    def step(self, closure: Callable[[], ClosureResult]) -> ClosureResult:  # type: ignore[override]
        """Run up to `max_iter` L-BFGS iterations; returns the loss at the starting point."""
        with no_grad():
            return self._run(closure)

    def _run(self, closure: Callable[[], ClosureResult]) -> ClosureResult:
        group = with_number_options(self.param_groups[0])
        lr = group["lr"]
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]
        xp = self._xp

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d = _array_or_none(state.get("d"))
        t = _array_or_number(state.get("t"))
        old_dirs = [y._array for y in state.get("old_dirs", [])]
        old_stps = [s._array for s in state.get("old_stps", [])]
        ro = [_array_or_number(r) for r in state.get("ro", [])]
        h_diag = _array_or_number(state.get("H_diag"))
        al = [_array_or_number(a) for a in state["al"]] if "al" in state else None
        prev_flat_grad = _array_or_none(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # Direction: steepest descent first, then the two-loop recursion on the history.
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y @ s
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / (y @ y)
                if al is None:  # PyTorch's scratch list, kept in the state as it keeps it
                    al = [None] * history_size
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, h_diag, al)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # Step length: the first iteration scales by the gradient's size.
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad @ d
            if gtd > -tolerance_change:  # not a descent direction
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":  # where PyTorch's refuses it
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_params()

                def obj_func(x: list[Array], t: Any, d: Array) -> tuple[float, Array]:
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # the last iteration's loss is left to the next step
                    with enable_grad():
                        loss = closure()
                    loss = float(loss)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:  # the step barely moves
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss barely moves
                break

        # The state holds what PyTorch's holds: Python numbers where its are (t = lr, the
        # first H_diag = 1), 0-d tensors where it computed them.
        device = self._params[0].device  # the state stays on the parameters' device

        def stored(value: Any) -> Any:
            python_number = type(value) in (int, float)  # NumPy's float64 is a float subclass
            return value if python_number else as_tensor(value, device=device)

        state["d"] = as_tensor(d, device=device)
        state["t"] = stored(t)
        state["old_dirs"] = [as_tensor(y, device=device) for y in old_dirs]
        state["old_stps"] = [as_tensor(s, device=device) for s in old_stps]
        state["ro"] = [stored(r) for r in ro]
        state["H_diag"] = stored(h_diag)
        if al is not None:
            state["al"] = [None if a is None else stored(a) for a in al]
        state["prev_flat_grad"] = as_tensor(prev_flat_grad, device=device)
        state["prev_loss"] = prev_loss
        return orig_loss


def _array_or_none(value: Tensor | None) -> Array | None:
    return None if value is None else value._array


def _array_or_number(value: Any) -> Any:
    """A state entry as the step computes with it: a 0-d tensor's array, a number as it is."""
    return value._array if isinstance(value, Tensor) else value


def _two_loop_direction(
    flat_grad: Array, old_dirs: list, old_stps: list, ro: list, h_diag: Any, al: list
) -> Array:
    """-H g for the L-BFGS inverse-Hessian estimate H built from the (s, y) history; `al`
    (history_size long) receives the first loop's coefficients, as in PyTorch."""
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = (old_stps[i] @ q) * ro[i]
        q += -al[i] * old_dirs[i]
    r = q * h_diag
    for i in range(len(old_dirs)):
        be_i = (old_dirs[i] @ r) * ro[i]
        r += (al[i] - be_i) * old_stps[i]
    return r


def _cubic_interpolate(
    x1: Any, f1: Any, g1: Any, x2: Any, f2: Any, g2: Any, bounds: tuple | None = None
) -> Any:
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clipped
    to `bounds` (default: between x1 and x2); the bounds' midpoint when the cubic has none."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square < 0:
        return (xmin_bound + xmax_bound) / 2.0
    d2 = d2_square**0.5
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, xmin_bound), xmax_bound)


def _strong_wolfe(
    obj_func: Callable,
    x: list[Array],
    t: Any,
    d: Array,
    f: float,
    g: Array,
    gtd: Any,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_ls: int = 25,
) -> tuple[float, Array, Any, int]:
    """A step length t along d meeting the strong Wolfe conditions (sufficient decrease c1,
    curvature c2): first widen t until a bracket holds a minimizer, then zoom into it.

    Returns (loss, flat gradient, t, number of evaluations).
    """
    d_norm = abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new @ d

    # Bracketing phase.
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket = [t_prev, t]
            bracket_f = [f_prev, f_new]
            bracket_g = [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # Extrapolate to a longer step.
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous_t = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = previous_t, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new @ d
        ls_iter += 1

    if ls_iter == max_ls:  # out of evaluations: bracket [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom phase: shrink the bracket until a point satisfies the conditions.
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # Keep t away from the bracket's ends unless the last tries made too little progress.
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new @ d
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # No sufficient decrease: t becomes the high end.
            bracket[high_pos] = t
            bracket_f[high_pos] = f_new
            bracket_g[high_pos] = g_new.copy()
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # The old low end becomes the high end.
                bracket[high_pos] = bracket[low_pos]
                bracket_f[high_pos] = bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos] = t
            bracket_f[low_pos] = f_new
            bracket_g[low_pos] = g_new.copy()
            bracket_gtd[low_pos] = gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _real_numel(p: Any) -> int:
    """The number of real numbers in p: two per complex element."""
    return 2 * p.numel() if p.is_complex() else p.numel()
