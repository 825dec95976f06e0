"""DistributedDataParallel: one model replica per process, gradients averaged during backward.

How it works, as PyTorch's reducer does:
- At construction every rank checks that all have the same parameter shapes, then takes rank
  0's parameters and buffers.
- The parameters that need gradients are cut into buckets of one dtype each, in reverse
  registration order (roughly the order backward produces their gradients), the first about
  1 MiB and the others `bucket_cap_mb` (25 MiB): each bucket is one flat array.
- A post-accumulate-grad hook on every parameter copies its fresh gradient, divided by the
  world size, into its bucket; when a bucket is full its all-reduce (a sum) starts, without
  waiting (MPI_Iallreduce), while backward goes on computing the other gradients. Buckets
  start in the same order on every rank (MPI requires it), so a bucket that fills early waits
  for the ones before it.
- An end-of-backward callback (`autograd.engine.queue_callback`) starts whatever is left,
  waits for every bucket and copies the averages back into the parameters' `.grad`.

`register_comm_hook(state, hook)` replaces the all-reduce of each bucket by `hook(state,
bucket)`, which returns a Future of the bucket's new value (chainrule.futures; the hooks
PyTorch ships are in distributed.algorithms.ddp_comm_hooks): the bucket then holds the raw
gradients, not divided by the world size, and DDP copies the Future's tensor back into it.

`no_sync()` skips the all-reduce (gradients accumulate locally and are averaged at the first
synchronised backward); with `find_unused_parameters=True`, parameters that received no
gradient contribute zeros, and those unused on every rank keep their `.grad` untouched.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.engine import queue_callback
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.distributed import (
    BuiltinCommHookType,
    DistError,
    GradBucket,
    ProcessGroup,
    all_gather_object,
    all_reduce,
    broadcast,
)
from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
from chainrule.distributed.collectives import shared_sum
from chainrule.distributed.process_group import resolve_group
from chainrule.distributed.transport import shared_part
from chainrule.futures import Future
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter

_MIB = 1024 * 1024
_DEFAULT_BUCKET_CAP_MB = 25
_FIRST_BUCKET_BYTES = 1 * _MIB  # PyTorch's _DEFAULT_FIRST_BUCKET_BYTES: start talking early
_PREFIX = "module."


class _Bucket:
    """Parameters of one dtype whose gradients travel together in one flat array."""

    __slots__ = (
        "params",
        "slots",
        "flat",
        "views",
        "pending",
        "ready",
        "work",
        "future",
        "own",
        "deferred",
    )

    def __init__(self, params: list[Parameter], group: ProcessGroup) -> None:
        self.params = params
        self.slots: list[tuple[int, int]] = []  # (start, stop) of each parameter in `flat`
        start = 0
        for param in params:
            self.slots.append((start, start + param.numel()))
            start += param.numel()
        first = params[0]
        backend, dtype = first._backend, first._array.dtype
        # In host memory, a bucket the ranks of a node share: its all-reduce is then a sum
        # straight out of the ranks' buckets, without MPI's copies (about half the time).
        array = group.shared_array(start, dtype) if backend.host_memory else None
        # Shared: the elements this rank sums for everyone. Its gradients' values there are
        # read by no other rank, so they are not copied in: `deferred` keeps each parameter's
        # flat gradient until the sum reads them (fill_own_part).
        self.own = None if array is None else shared_part(start, group.rank(), group.size())
        self.deferred: list[Any] = [None] * len(params)
        if array is None:
            array = backend.xp.zeros(start, dtype=dtype)
        self.flat = Tensor._from_array(array, backend)
        # Each parameter's part of `flat`, in its shape: its .grad with gradient_as_bucket_view.
        self.views = [
            Tensor._from_array(array[a:b].reshape(p.shape), first._backend)
            for p, (a, b) in zip(params, self.slots)
        ]
        self.pending = len(params)
        self.ready = [False] * len(params)
        self.work: Any = None
        self.future: Future | None = None  # with a communication hook: what it returned

    def reset(self) -> None:
        self.pending = len(self.params)
        self.ready = [False] * len(self.params)
        self.deferred = [None] * len(self.params)
        self.work = None
        self.future = None

    def fill_own_part(self, start: int, stop: int, out: Any, scale: float) -> None:
        """Write this rank's gradients for elements start:stop of its own part, times `scale`,
        into `out` (zeros for a parameter without one)."""
        xp = self.flat._backend.xp
        for (first, last), gradient in zip(self.slots, self.deferred):
            low, high = max(first, start), min(last, stop)
            if low >= high:
                continue
            target = out[low - start : high - start]
            if gradient is None:
                target[...] = 0
            else:
                xp.multiply(gradient[low - first : high - first], scale, out=target)


def _assign_buckets(
    params: list[Parameter], caps: tuple[int, int], group: ProcessGroup
) -> list[_Bucket]:
    """Buckets over `params` (already in reverse registration order), one dtype and device
    each; a bucket closes once it holds at least its cap in bytes (the first cap, then the
    second), as PyTorch's compute_bucket_assignment_by_size."""
    open_buckets: dict[tuple, list[Parameter]] = {}
    sizes: dict[tuple, int] = {}
    closed: dict[tuple, int] = {}
    order: list[list[Parameter]] = []
    for param in params:
        key = (param._array.dtype, param._backend.device)
        if key not in open_buckets:
            open_buckets[key] = []
            sizes[key] = 0
            order.append(open_buckets[key])
        open_buckets[key].append(param)
        sizes[key] += param.numel() * param.element_size()
        cap = caps[0] if closed.get(key, 0) == 0 else caps[1]
        if sizes[key] >= cap:
            closed[key] = closed.get(key, 0) + 1
            del open_buckets[key]
    return [_Bucket(members, group) for members in order]


class DistributedDataParallel(Module):
    """Wrap `module` so that backward averages its gradients over the ranks of
    `process_group` (the default group if None). Each rank feeds its own part of the batch.

    >>> import chainrule, chainrule.distributed as dist
    >>> from chainrule import nn
    >>> dist.init_process_group("single")
    >>> model = nn.parallel.DistributedDataParallel(nn.Linear(3, 1))
    >>> model(chainrule.ones(4, 3)).sum().backward()
    >>> model.module.weight.grad.shape
    chainrule.Size([1, 3])
    >>> dist.destroy_process_group()
    """

    def __init__(
        self,
        module: Module,
        device_ids: Any = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool | None = None,
        init_sync: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
        forward_sync_buffers: bool | None = None,
    ) -> None:
        super().__init__()
        group = resolve_group(process_group, "DistributedDataParallel")
        if group is None:
            raise ValueError("DistributedDataParallel: this rank is not in process_group")
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        self.module = module
        self.process_group: ProcessGroup = group
        self.device_ids = device_ids
        self.output_device = output_device
        self.dim = dim
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync_flags(
            broadcast_buffers, forward_sync_buffers
        )
        cap_mb = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap_mb * _MIB)
        first_cap = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        names = {id(p): name for name, p in module.named_parameters()}
        self._param_names = [names[id(p)] for p in params]
        if init_sync:
            self._verify_shapes(params)
            self._broadcast(list(module.parameters()) + self._buffers_to_sync(init_sync_buffers))
        self._buckets = _assign_buckets(params[::-1], (first_cap, self.bucket_bytes_cap), group)
        self._where: dict[int, tuple[int, int]] = {}
        for bucket_index, bucket in enumerate(self._buckets):
            for slot, param in enumerate(bucket.params):
                self._where[id(param)] = (bucket_index, slot)
        self._expect_hooks = False  # the last forward asked for a synchronised backward
        self._in_backward = False
        self._next_bucket = 0
        self._comm_hook: tuple[Any, Callable] | None = None  # (state, hook)
        owner = weakref.ref(self)
        self._hook_handles = [
            param.register_post_accumulate_grad_hook(_gradient_ready_hook(owner))
            for param in params
        ]

    # ---- construction ------------------------------------------------------------------------
    def _verify_shapes(self, params: list[Parameter]) -> None:
        """Every rank must wrap the same model: same parameter names, shapes and dtypes."""
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in zip(self._param_names, params)]
        everyone: list[Any] = [None] * self.process_group.size()
        all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            if theirs != everyone[0]:
                padded = everyone[0] + [None] * len(theirs), theirs + [None] * len(everyone[0])
                first, other = next((a, b) for a, b in zip(*padded) if a != b)
                raise DistError(
                    f"DistributedDataParallel: the ranks wrap different models: rank "
                    f"{self.process_group.ranks[0]} has parameter {first}, rank "
                    f"{self.process_group.ranks[rank]} has {other}"
                )

    def _buffers_to_sync(self, wanted: bool) -> list[Tensor]:
        return list(self.module.buffers()) if wanted else []

    def _broadcast(self, tensors: list[Tensor]) -> None:
        """Rank 0's values into `tensors` on every rank (started together, waited together)."""
        root = self.process_group.ranks[0]
        works = [broadcast(t, src=root, group=self.process_group, async_op=True) for t in tensors]
        for work in works:
            work.wait()

    def _sync_buffers(self) -> None:
        """Rank 0's buffers to every rank before a forward (BatchNorm's running statistics),
        keeping their version counters (this is not a change autograd needs to see)."""
        buffers = self._buffers_to_sync(True)  # looked up anew: a buffer may be reassigned
        versions = [b._version_counter.value for b in buffers]
        self._broadcast(buffers)
        for buffer, version in zip(buffers, versions):
            buffer._version_counter.value = version

    # ---- forward -------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        if self._in_backward:  # the last backward raised before its end-of-backward callback
            self._in_backward = False
            self._next_bucket = 0
            for bucket in self._buckets:
                bucket.reset()
        syncing = is_grad_enabled() and self.require_backward_grad_sync
        if self.require_forward_param_sync and self.forward_sync_buffers:
            self._sync_buffers()
        output = self.module(*inputs, **kwargs)
        self.require_forward_param_sync = syncing
        self._expect_hooks = syncing
        return output

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, forward-backward passes accumulate gradients locally, without any
        communication; the first synchronised backward after it averages the sum. Run the
        forward inside the block too."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # ---- backward ------------------------------------------------------------------------
    def _gradient_ready(self, param: Parameter) -> None:
        """A parameter's `.grad` is final for this backward: copy it into its bucket and start
        every bucket that is now full, in bucket order."""
        if not self._expect_hooks:
            return  # no_sync, or a backward the last forward did not prepare
        if not self._in_backward:
            self._in_backward = True
            queue_callback(self._finish_backward)
        bucket_index, slot = self._where[id(param)]
        bucket = self._buckets[bucket_index]
        if bucket.ready[slot]:
            raise DistError(
                f"DistributedDataParallel: parameter {self._name_of(param)} received its "
                "gradient twice in one backward; call forward again before another backward"
            )
        self._copy_in(bucket, slot)
        self._start_full_buckets()
        for started in self._buckets[: self._next_bucket]:
            # MPI progresses only when called: let it move on. A hook's Future is only nudged,
            # never completed here, so its callbacks run at the end of backward, at the same
            # point on every rank (a callback may start another collective).
            if started.future is not None:
                started.future._progress()
            else:
                started.work.is_completed()

    def _copy_in(self, bucket: _Bucket, slot: int) -> None:
        start, stop = bucket.slots[slot]
        param = bucket.params[slot]
        grad = param.grad
        part = bucket.flat._array[start:stop]
        view = bucket.views[slot]
        if grad is None:
            part[...] = 0
        elif self._comm_hook is not None:  # the hook gets the raw sum, as PyTorch's
            if grad is not view:
                part[...] = grad._array.reshape(-1)
        else:  # divided by the world size on the way in: the all-reduce sums to the average
            xp = bucket.flat._backend.xp
            gradient = grad._array.reshape(-1)
            scale = 1 / self.process_group.size()
            if bucket.own is None:
                xp.multiply(gradient, scale, out=part)
            else:  # only what other ranks sum; this rank's own part waits for the sum
                own_start, own_stop = bucket.own
                low, high = max(start, own_start), min(stop, own_stop)
                if low >= high:
                    xp.multiply(gradient, scale, out=part)
                else:
                    bucket.deferred[slot] = gradient
                    xp.multiply(gradient[: low - start], scale, out=part[: low - start])
                    xp.multiply(gradient[high - start :], scale, out=part[high - start :])
        if grad is not None and self.gradient_as_bucket_view and grad is not view:
            param.grad = view  # from now on backward accumulates in place
        bucket.ready[slot] = True
        bucket.pending -= 1

    def _start_full_buckets(self) -> None:
        buckets = self._buckets
        while self._next_bucket < len(buckets) and buckets[self._next_bucket].pending == 0:
            bucket = buckets[self._next_bucket]
            if self._comm_hook is None and bucket.own is not None:
                scale = 1 / self.process_group.size()
                bucket.work = shared_sum(
                    bucket.flat,
                    functools.partial(bucket.fill_own_part, scale=scale),
                    self.process_group,
                )
            elif self._comm_hook is None:
                bucket.work = all_reduce(bucket.flat, group=self.process_group, async_op=True)
            else:
                bucket.future = self._run_comm_hook(self._next_bucket)
            self._next_bucket += 1

    def _run_comm_hook(self, index: int) -> Future:
        bucket = self._buckets[index]
        state, hook = self._comm_hook
        last = index == len(self._buckets) - 1
        grad_bucket = GradBucket(index, bucket.flat, list(bucket.views), bucket.params, last)
        future = hook(state, grad_bucket)
        if not isinstance(future, Future):
            raise RuntimeError(
                "DDP communication hook's callback must return a torch.futures.Future object, "
                f"but got {type(future).__name__}"
            )
        return future

    def _finish_backward(self) -> None:
        """End of a synchronised backward: start what is left, wait for every bucket, and
        write the averages back into `.grad`."""
        self._in_backward = False
        self._expect_hooks = False
        missing = [
            (bucket, slot)
            for bucket in self._buckets
            for slot, ready in enumerate(bucket.ready)
            if not ready
        ]
        try:
            if missing and not self.find_unused_parameters:
                for bucket in self._buckets[: self._next_bucket]:
                    self._wait_for(bucket)  # every rank's collectives end before it raises
                unready = {id(bucket.params[slot]) for bucket, slot in missing}
                names = ", ".join(
                    _PREFIX + name
                    for name, param in self.module.named_parameters()
                    if id(param) in unready
                )
                raise DistError(
                    f"DistributedDataParallel: parameters {names} received no gradient in this "
                    "backward. This error indicates that your module has parameters that were "
                    "not used in producing loss. Pass find_unused_parameters=True to "
                    "DistributedDataParallel, and make sure all forward outputs participate in "
                    "calculating loss"
                )
            for bucket, slot in missing:
                self._copy_in(bucket, slot)
            self._start_full_buckets()
            used_everywhere = self._globally_used(missing)
            for index, bucket in enumerate(self._buckets):
                result = self._wait_for(bucket)
                if bucket.future is not None:
                    self._take_hook_result(index, result)
                self._copy_out(bucket, used_everywhere)
        finally:
            self._next_bucket = 0
            for bucket in self._buckets:
                bucket.reset()

    @staticmethod
    def _wait_for(bucket: _Bucket) -> Any:
        """Wait for the bucket's all-reduce, or for its hook's Future and return its value."""
        if bucket.future is None:
            bucket.work.wait()
            return None
        return bucket.future.wait()

    def _take_hook_result(self, index: int, result: Any) -> None:
        """Write what the hook's Future holds into the bucket (cast to the bucket's dtype: a
        compressing hook may return 16 bits), unless the hook worked in the bucket itself."""
        bucket = self._buckets[index]
        if not isinstance(result, Tensor):
            raise RuntimeError(
                "DDP communication hook's Future must hold a single Tensor (the bucket's new "
                f"value), got {type(result).__name__}"
            )
        if result.numel() != bucket.flat.numel():
            raise RuntimeError(
                f"DDP communication hook: bucket {index} holds {bucket.flat.numel()} elements, "
                f"but the hook's Future holds a tensor of shape {tuple(result.shape)}"
            )
        if result._array is not bucket.flat._array:
            bucket.flat._array[...] = result._array.reshape(-1)

    def _globally_used(self, missing: list[tuple[_Bucket, int]]) -> set[int] | None:
        """With find_unused_parameters: the ids of parameters that got a gradient on some rank
        (an all-reduce of this rank's used-map); None when every parameter is used."""
        if not self.find_unused_parameters:
            return None
        flags = [p for bucket in self._buckets for p in bucket.params]
        unused = {id(bucket.params[slot]) for bucket, slot in missing}
        first = self._buckets[0].flat
        xp = first._backend.xp
        used = Tensor._from_array(
            xp.asarray([0 if id(p) in unused else 1 for p in flags], dtype="int32"),
            first._backend,
        )
        all_reduce(used, group=self.process_group)
        return {id(p) for p, count in zip(flags, used._array.tolist()) if count > 0}

    def _copy_out(self, bucket: _Bucket, used_everywhere: set[int] | None) -> None:
        for slot, param in enumerate(bucket.params):
            if used_everywhere is not None and id(param) not in used_everywhere:
                continue  # unused on every rank: PyTorch leaves its .grad alone
            view = bucket.views[slot]
            if param.grad is view:
                continue  # the average is already there
            if self.gradient_as_bucket_view:
                param.grad = view
            elif param.grad is None:
                param.grad = Tensor._from_array(view._array.copy(), param._backend)
            else:
                param.grad._array[...] = view._array

    # ---- communication hooks ---------------------------------------------------------------
    def register_comm_hook(self, state: object, hook: Callable) -> None:
        """Communicate each bucket of gradients with `hook(state, bucket)` instead of DDP's
        all-reduce: `bucket` is a `distributed.GradBucket` (its `buffer()` holds the gradients,
        not yet divided by the world size), and the hook returns a `futures.Future` of a tensor
        of the bucket's size, which DDP copies back into the gradients. Once only, as PyTorch.

        >>> import chainrule, chainrule.distributed as dist
        >>> from chainrule import nn
        >>> from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
        >>> dist.init_process_group("single")
        >>> ddp = nn.parallel.DistributedDataParallel(nn.Linear(2, 1))
        >>> ddp.register_comm_hook(None, default_hooks.fp16_compress_hook)
        >>> ddp(chainrule.ones(3, 2)).sum().backward()
        >>> ddp.module.weight.grad
        tensor([[3., 3.]])
        >>> dist.destroy_process_group()
        """
        _check_comm_hook(hook)
        if self._comm_hook is not None:
            raise RuntimeError(
                "register_comm_hook or register_builtin_comm_hook can only be called once."
            )
        if self._in_backward:
            raise RuntimeError(
                "DistributedDataParallel: register_comm_hook was called during a backward; "
                "register it before the backward"
            )
        self._comm_hook = (state, hook)

    def _register_builtin_comm_hook(self, comm_hook_type: BuiltinCommHookType) -> None:
        """Register ALLREDUCE or FP16_COMPRESS by name (PyTorch's C++ hooks; the Python ones of
        default_hooks here), over this DDP's process group."""
        hooks = {
            BuiltinCommHookType.ALLREDUCE: default_hooks.allreduce_hook,
            BuiltinCommHookType.FP16_COMPRESS: default_hooks.fp16_compress_hook,
        }
        if comm_hook_type not in hooks:
            raise TypeError(f"_register_builtin_comm_hook: unknown hook type {comm_hook_type!r}")
        self.register_comm_hook(self.process_group, hooks[comm_hook_type])

    def _name_of(self, param: Parameter) -> str:
        for name, candidate in self.module.named_parameters():
            if candidate is param:
                return _PREFIX + name
        return "<unnamed>"

    # ---- state ---------------------------------------------------------------------------
    def load_state_dict(
        self, state_dict: Mapping, strict: bool = True, assign: bool = False
    ) -> Any:
        """Load a state dict saved from this wrapper (keys start with "module.", as PyTorch's)
        or from the bare module (keys without it): both fit."""
        if state_dict and not any(str(key).startswith(_PREFIX) for key in state_dict):
            state_dict = {_PREFIX + key: value for key, value in state_dict.items()}
        return super().load_state_dict(state_dict, strict=strict, assign=assign)


def _gradient_ready_hook(owner: weakref.ref) -> Any:
    """The hook each parameter carries; it holds the wrapper weakly (a dropped wrapper leaves
    the bare module training alone)."""

    def hook(param: Parameter) -> None:
        ddp = owner()
        if ddp is not None:
            ddp._gradient_ready(param)

    return hook


def _check_comm_hook(hook: Any) -> None:
    """PyTorch's checks on a hook: callable, and annotated (if at all) as
    `hook(state, bucket: GradBucket) -> Future[Tensor]`."""
    if not callable(hook):
        raise TypeError("Communication hook must be callable.")
    signature = inspect.signature(hook)
    bucket = signature.parameters.get("bucket")
    if bucket is not None and not _names(bucket.annotation, GradBucket):
        raise ValueError("Communication hook: bucket annotation should be dist.GradBucket.")
    if not _names(signature.return_annotation, Future[Tensor]):
        raise ValueError(
            "Communication hook: return annotation should be torch.futures.Future[torch.Tensor]."
        )


def _names(annotation: Any, expected: Any) -> bool:
    """Whether `annotation` is absent or is `expected`: the object, or a string naming it (what
    `from __future__ import annotations` leaves)."""
    if annotation is inspect.Parameter.empty or annotation == expected:
        return True
    if isinstance(annotation, str):
        wanted = "Future[" if expected is not GradBucket else "GradBucket"
        return wanted in annotation
    return False


def _buffer_sync_flags(broadcast_buffers: bool | None, forward_sync_buffers: bool | None) -> tuple:
    """(sync buffers before each forward, sync them at construction), from PyTorch 2.13's two
    arguments: `broadcast_buffers` is deprecated for `forward_sync_buffers`, which always syncs
    at construction."""
    if broadcast_buffers is not None:
        warnings.warn(
            "`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead.",
            FutureWarning,
            stacklevel=3,
        )
    if forward_sync_buffers is not None:
        return forward_sync_buffers, True
    effective = True if broadcast_buffers is None else broadcast_buffers
    return effective, effective


__all__ = ["DistributedDataParallel"]
