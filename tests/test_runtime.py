"""The process-wide calls PyTorch programs make around their model code: device queries, thread
count, determinism flags, backend flags and `compile`'s calling forms. A script that makes them
runs unchanged."""

import importlib.util
import subprocess
import sys

import pytest
import torch
from threadpoolctl import threadpool_info

import chainrule
from chainrule.errors import BackendError


def _gpu_through_cupy() -> bool:
    if importlib.util.find_spec("cupy") is None:
        return False
    import cupy

    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


def test_the_device_choosing_idiom_runs_and_picks_what_is_there():
    device = chainrule.device("cuda" if chainrule.cuda.is_available() else "cpu")
    assert chainrule.cuda.is_available() == _gpu_through_cupy()
    assert device.type == ("cuda" if _gpu_through_cupy() else "cpu")
    assert chainrule.cuda.device_count() >= int(chainrule.cuda.is_available())
    chainrule.cuda.manual_seed_all(0)  # silently ignored without a GPU, as in PyTorch
    chainrule.cuda.synchronize()


def test_set_num_threads_sets_blas_threads_and_get_num_threads_reads_them():
    before = chainrule.get_num_threads()
    try:
        chainrule.set_num_threads(1)
        assert chainrule.get_num_threads() == 1
        blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        assert blas and set(blas) == {1}
    finally:
        chainrule.set_num_threads(before)
    assert chainrule.get_num_threads() == before
    with pytest.raises(ValueError, match="set_num_threads"):
        chainrule.set_num_threads(0)


def test_determinism_flags_round_trip_as_torch():
    try:
        chainrule.use_deterministic_algorithms(True, warn_only=True)
        assert chainrule.are_deterministic_algorithms_enabled()
        assert chainrule.is_deterministic_algorithms_warn_only_enabled()
    finally:
        chainrule.use_deterministic_algorithms(False)
    assert not chainrule.are_deterministic_algorithms_enabled()
    assert torch.are_deterministic_algorithms_enabled() is False  # the same default


def test_float32_matmul_precision_round_trips_as_torch():
    assert chainrule.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    try:
        for library in (chainrule, torch):
            library.set_float32_matmul_precision("high")
            assert library.get_float32_matmul_precision() == "high"
            with pytest.warns(UserWarning, match="is not one of 'highest', 'high', or 'medium'"):
                library.set_float32_matmul_precision("fastest")
            assert library.get_float32_matmul_precision() == "high"
    finally:
        chainrule.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision("highest")


def test_backend_flags_start_at_torchs_defaults_and_report_no_cudnn_or_mps():
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(chainrule.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert chainrule.backends.cuda.matmul.allow_tf32 == torch.backends.cuda.matmul.allow_tf32
    for flags in ("cudnn", "mps"):  # the CPU build of torch says the same
        mine, theirs = getattr(chainrule.backends, flags), getattr(torch.backends, flags)
        assert mine.is_available() is theirs.is_available() is False, flags
    assert chainrule.backends.mps.is_built() is torch.backends.mps.is_built() is False


def test_a_script_setting_backend_flags_runs_unchanged():
    script = (
        "import chainrule as torch\n"
        "torch.backends.cudnn.benchmark = True\n"
        "torch.backends.cudnn.deterministic = True\n"
        "torch.backends.cuda.matmul.allow_tf32 = False\n"
        "device = 'mps' if torch.backends.mps.is_available() else 'cpu'\n"
        "print(device, torch.backends.cudnn.benchmark)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["cpu", "True"]


def test_compile_accepts_every_calling_form():
    """More in tests/test_compile.py: a compiled module computes what the module does."""
    model = chainrule.nn.Linear(3, 2)
    x = chainrule.ones(4, 3)
    for compiled in (
        chainrule.compile(model),
        chainrule.compile(model, mode="reduce-overhead", fullgraph=True),
    ):
        with chainrule.no_grad():
            assert compiled(x).tolist() == model(x).tolist()
        assert compiled.weight is model.weight  # attributes are the module's
    assert chainrule.compile(model, disable=True) is model

    @chainrule.compile
    def double(x):
        return x * 2

    @chainrule.compile(dynamic=True)
    def triple(x):
        return x * 3

    assert double(chainrule.ones(2)).tolist() == [2.0, 2.0]
    assert triple(chainrule.ones(2)).tolist() == [3.0, 3.0]


def test_is_tensor_and_size_as_torch():
    assert chainrule.is_tensor(chainrule.ones(1)) and torch.is_tensor(torch.ones(1))
    assert chainrule.is_tensor(chainrule.nn.Parameter(chainrule.ones(1)))
    assert not chainrule.is_tensor([1.0]) and not torch.is_tensor([1.0])
    size = chainrule.Size([2, 3])
    assert size == chainrule.ones(2, 3).shape == (2, 3) == torch.Size([2, 3])
    assert size.numel() == torch.Size([2, 3]).numel() == 6
    assert isinstance(size, tuple)


def test_cuda_queries_without_a_gpu_answer_as_pytorch_does():
    if chainrule.cuda.is_available():
        pytest.skip("a GPU is present: benchmarks/gpu.sh covers this machine")
    assert chainrule.cuda.memory_allocated() == 0 and chainrule.cuda.memory_reserved() == 0
    assert not chainrule.cuda.is_initialized()
    chainrule.cuda.empty_cache()  # nothing to free
    for ask in (chainrule.cuda.current_device, chainrule.cuda.get_device_name):
        with pytest.raises(BackendError, match="no CUDA GPU is available"):
            ask()
    with pytest.raises(BackendError, match="no CUDA GPU is available"):
        chainrule.cuda.set_device(0)


def test_cuda_memory_and_seeding_calls_without_a_gpu_answer_as_a_cpu_only_pytorch():
    """Programs call these unguarded (a peak-memory print, a seed_all): each answers as
    torch's CPU build does, warnings included."""
    if chainrule.cuda.is_available():
        pytest.skip("a GPU is present: benchmarks/gpu.sh covers this machine")
    for name in ("max_memory_allocated", "max_memory_reserved"):
        assert getattr(chainrule.cuda, name)() == getattr(torch.cuda, name)() == 0
    assert chainrule.cuda.memory_stats() == dict(torch.cuda.memory_stats()) == {}
    for name in ("memory_cached", "max_memory_cached"):
        with pytest.warns(FutureWarning, match="has been renamed"):
            assert getattr(chainrule.cuda, name)() == 0
    with pytest.warns(FutureWarning, match="reset_peak_memory_stats"):
        chainrule.cuda.reset_max_memory_allocated()
    chainrule.cuda.reset_peak_memory_stats()
    assert chainrule.cuda.seed() is None and chainrule.cuda.seed_all() is None
    assert chainrule.cuda.get_rng_state_all() == torch.cuda.get_rng_state_all() == []
    chainrule.cuda.set_rng_state_all([])
    assert chainrule.cuda.is_bf16_supported() is torch.cuda.is_bf16_supported() is False
    assert chainrule.cuda.get_arch_list() == torch.cuda.get_arch_list() == []
