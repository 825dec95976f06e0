"""The coefficients of backend/jit_kernels.py's erfc: P(t) with erfc(z) = t exp(-z^2 + P(t)),
t = 1 / (1 + z/2), the form of Numerical Recipes' erfcc, refitted for float64 arithmetic.

    python scripts/fit_erfc_kernel.py

P(t) = log(erfcx(z) / t) is smooth on t in (0, 1] (z from infinity down to 0). A least-squares
Chebyshev fit of degree 12 on 4,000 Chebyshev points against mpmath at 40 digits, turned into
power-basis coefficients for Horner's or Estrin's scheme, prints them highest power first
with the largest error of P (which is the relative error of erfc): 5.8e-9, a tenth of a float32
ulp. Needs mpmath (a dependency of SymPy; not of chainrule).
"""

import mpmath
import numpy as np

DEGREE = 12
POINTS = 4001


def main() -> None:
    mpmath.mp.dps = 40
    nodes = np.cos(np.linspace(0.0, np.pi, POINTS)) * 0.5 + 0.5
    nodes = nodes[nodes > 1e-6]  # z = 2/t - 2 beyond 2e6: erfcx's asymptote, P(0) = -log(2 sqrt pi)

    def target(t: float) -> float:
        z = 2 / mpmath.mpf(t) - 2
        return float(mpmath.log(mpmath.erfc(z) * mpmath.exp(z * z) / t))

    values = np.array([target(t) for t in nodes])
    series = np.polynomial.Chebyshev.fit(nodes, values, DEGREE)
    power = series.convert(kind=np.polynomial.Polynomial, domain=[-1, 1], window=[-1, 1]).coef
    error = np.abs(np.polynomial.polynomial.polyval(nodes, power) - values).max()
    for coefficient in power[::-1]:
        print(f"    {float(coefficient)!r},")
    print(f"# largest error of P: {error:.2g}")


if __name__ == "__main__":
    main()
