"""Which of several equal elements PyTorch's CPU selection kernels return, and in what order.

`kthvalue`, `median` and `topk` leave the choice among ties to their algorithm: kthvalue runs
Sedgewick's quickselect (median-of-three pivot) over the slice; topk runs the C++ standard
library's nth_element then sort (partial_sort when k * 64 <= n) over (value, index) pairs, with
NaN the largest. The choice is deterministic, so a program that prints the indices of tied
elements prints PyTorch's only if the same steps run here. They do, on Python lists, for the
slices where the choice matters (see `needs_tie_order`); every other slice keeps the fast
vectorized answer, which is then the same.

The comparisons: `_after(x, y)` is "x comes before y" for descending order (NaN first), and
`_before` its mirror for ascending order (NaN last), exactly the predicates PyTorch passes.
"""

from __future__ import annotations

from collections.abc import Callable

Less = Callable[[tuple, tuple], bool]


def _greater(x: tuple, y: tuple) -> bool:
    """x before y in descending order, NaN first: PyTorch's comparison for largest=True."""
    a, b = x[0], y[0]
    return (a != a and b == b) or a > b  # noqa: PLR0124 - NaN test


def _smaller(x: tuple, y: tuple) -> bool:
    """x before y in ascending order, NaN last: PyTorch's comparison for largest=False."""
    a, b = x[0], y[0]
    return (a == a and b != b) or a < b  # noqa: PLR0124 - NaN test


def quickselect_position(values: list, k: int) -> int:
    """The input position of the k-th smallest (0-based, NaN largest) of `values` as PyTorch's
    CPU kthvalue finds it: Sedgewick's quickselect, median-of-three pivot, moving positions
    with the values."""
    items = [(value, position) for position, value in enumerate(values)]
    left, right = 0, len(items) - 1
    while right > left:
        if right == left + 1:
            if _greater(items[left], items[right]):
                items[left], items[right] = items[right], items[left]
            break
        middle = (left + right) >> 1
        items[middle], items[left + 1] = items[left + 1], items[middle]
        if _greater(items[left + 1], items[right]):
            items[left + 1], items[right] = items[right], items[left + 1]
        if _greater(items[left], items[right]):
            items[left], items[right] = items[right], items[left]
        if _greater(items[left + 1], items[left]):
            items[left + 1], items[left] = items[left], items[left + 1]
        i, j, pivot = left + 1, right, items[left]
        while True:
            i += 1
            while _greater(pivot, items[i]):
                i += 1
            j -= 1
            while _greater(items[j], pivot):
                j -= 1
            if j < i:
                break
            items[i], items[j] = items[j], items[i]
        items[left], items[j] = items[j], items[left]
        if j <= k:
            left = i
        if j >= k:
            right = j - 1
    return items[k][1]


# ---- the C++ standard library's selection and sorting (GCC's libstdc++, as PyTorch is built)


def _insertion_sort(items: list, first: int, last: int, less: Less) -> None:
    for i in range(first + 1, last):
        value = items[i]
        if less(value, items[first]):
            items[first + 1 : i + 1] = items[first:i]
            items[first] = value
        else:
            _linear_insert(items, i, less)


def _linear_insert(items: list, last: int, less: Less) -> None:
    value = items[last]
    while less(value, items[last - 1]):
        items[last] = items[last - 1]
        last -= 1
    items[last] = value


def _median_to_first(items: list, result: int, a: int, b: int, c: int, less: Less) -> None:
    x, y, z = items[a], items[b], items[c]
    if less(x, y):
        pick = b if less(y, z) else c if less(x, z) else a
    else:
        pick = a if less(x, z) else c if less(y, z) else b
    items[result], items[pick] = items[pick], items[result]


def _partition_pivot(items: list, first: int, last: int, less: Less) -> int:
    _median_to_first(items, first, first + 1, first + (last - first) // 2, last - 1, less)
    pivot, low, high = items[first], first + 1, last
    while True:
        while less(items[low], pivot):
            low += 1
        high -= 1
        while less(pivot, items[high]):
            high -= 1
        if low >= high:
            return low
        items[low], items[high] = items[high], items[low]
        low += 1


def _adjust_heap(items: list, first: int, hole: int, length: int, value: tuple, less: Less) -> None:
    top, child = hole, hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if less(items[first + child], items[first + child - 1]):
            child -= 1
        items[first + hole] = items[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        items[first + hole] = items[first + child - 1]
        hole = child - 1
    parent = (hole - 1) // 2
    while hole > top and less(items[first + parent], value):
        items[first + hole] = items[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    items[first + hole] = value


def _heap_select(items: list, first: int, middle: int, last: int, less: Less) -> None:
    length = middle - first
    if length >= 2:
        for parent in range((length - 2) // 2, -1, -1):
            _adjust_heap(items, first, parent, length, items[first + parent], less)
    for i in range(middle, last):
        if less(items[i], items[first]):
            value, items[i] = items[i], items[first]
            _adjust_heap(items, first, 0, length, value, less)


def _sort_heap(items: list, first: int, last: int, less: Less) -> None:
    while last - first > 1:
        last -= 1
        value, items[last] = items[last], items[first]
        _adjust_heap(items, first, 0, last - first, value, less)


def _partial_sort(items: list, first: int, middle: int, last: int, less: Less) -> None:
    _heap_select(items, first, middle, last, less)
    _sort_heap(items, first, middle, less)


def _depth_limit(size: int) -> int:
    return 2 * (size.bit_length() - 1)


def _nth_element(items: list, nth: int, less: Less) -> None:
    first, last = 0, len(items)
    if nth == last:
        return
    depth = _depth_limit(last)
    while last - first > 3:
        if depth == 0:
            _heap_select(items, first, nth + 1, last, less)
            items[first], items[nth] = items[nth], items[first]
            return
        depth -= 1
        cut = _partition_pivot(items, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(items, first, last, less)


def _sort(items: list, last: int, less: Less) -> None:
    if last <= 0:
        return
    stack = [(0, last, _depth_limit(last))]
    while stack:  # the recursion of introsort's loop, on an explicit stack
        first, end, depth = stack.pop()
        while end - first > 16:
            if depth == 0:
                _partial_sort(items, first, end, end, less)
                break
            depth -= 1
            cut = _partition_pivot(items, first, end, less)
            stack.append((cut, end, depth))
            end = cut
    if last > 16:
        _insertion_sort(items, 0, 16, less)
        for i in range(16, last):
            _linear_insert(items, i, less)
    else:
        _insertion_sort(items, 0, last, less)


def topk_positions(values: list, k: int, largest: bool, sorted: bool) -> list:  # noqa: A002
    """The input positions of the k largest (smallest) of `values`, in the order PyTorch's CPU
    topk returns them (ties and sorted=False included)."""
    if k == 0:
        return []
    items = [(value, position) for position, value in enumerate(values)]
    less = _greater if largest else _smaller
    if k * 64 <= len(items):
        _partial_sort(items, 0, k, len(items), less)
    else:
        _nth_element(items, k - 1, less)
        if sorted:
            _sort(items, k - 1, less)
    return [position for _, position in items[:k]]


def _less(x: tuple, y: tuple) -> bool:
    """The bare `<` on values that PyTorch's CPU mode and median() pass (NaN compares false)."""
    return x[0] < y[0]


def _less_nan_last(x: tuple, y: tuple) -> bool:
    """nanmedian()'s comparison: `<`, with NaN after every number."""
    a, b = x[0], y[0]
    return a < b or (b != b and a == a)  # noqa: PLR0124 - NaN test


def mode_position(values: list) -> int:
    """The input position of the mode PyTorch's CPU mode returns: std::sort of (value, position)
    pairs by `<` on the value alone (so NaNs stay about where they were and each is a run of its
    own), then the last pair of the first longest run of equal values (-0.0 == 0.0)."""
    items = [(value, position) for position, value in enumerate(values)]
    _sort(items, len(items), _less)
    best, best_length, length = 0, 0, 0
    for i, (value, _) in enumerate(items):
        length += 1
        if i == len(items) - 1 or value != items[i + 1][0]:
            if length > best_length:
                best, best_length = i, length
            length = 0
    return items[best][1]


def median_value(values: list, ignore_nan: bool) -> float:
    """What PyTorch's CPU median() (or nanmedian(), `ignore_nan`) of all elements returns, which
    of -0.0 and 0.0 included: std::nth_element at the lower middle (of the numbers, for
    nanmedian) over the values. median() returns NaN before this when any element is NaN."""
    items = [(value, position) for position, value in enumerate(values)]
    numbers = sum(1 for value in values if value == value) if ignore_nan else len(values)  # noqa: PLR0124
    nth = (numbers - 1) // 2
    _nth_element(items, nth, _less_nan_last if ignore_nan else _less)
    return items[nth][0]


def sort_positions(values: list, descending: bool) -> list:
    """The input positions in the order PyTorch's CPU sort (stable=False) gives them: std::sort
    of (value, position) pairs, NaN the largest; equal values end up in input order only in
    slices of up to 16."""
    items = [(value, position) for position, value in enumerate(values)]
    _sort(items, len(items), _greater if descending else _smaller)
    return [position for _, position in items]


def _rows_less(x: tuple, y: tuple) -> bool:
    """unique(dim=...)'s comparison of two slices: the first element where one is `<` or `>`
    the other decides (NaN is neither, so the next element does); equal slices are not less."""
    for a, b in zip(x[0], y[0]):
        if a < b:
            return True
        if a > b:
            return False
    return False


def unique_slices(rows: list) -> tuple[list, list, list]:
    """PyTorch's CPU unique(dim=...) on slices given as lists: std::sort of (slice, position)
    pairs by `_rows_less`, then one group per run of neighbours equal element by element (a
    NaN equals nothing). Returns each group's first position in that order, the group of every
    input slice, and each group's size."""
    items = [(row, position) for position, row in enumerate(rows)]
    _sort(items, len(items), _rows_less)
    firsts: list = []
    groups = [0] * len(items)
    counts: list = []
    previous = None
    for row, position in items:
        if previous is None or not all(a == b for a, b in zip(row, previous)):
            firsts.append(position)
            counts.append(0)
        groups[position] = len(firsts) - 1
        counts[-1] += 1
        previous = row
    return firsts, groups, counts
